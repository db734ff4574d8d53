"""The broker layer: one ``Broker`` protocol, ``SimulatedBroker``, ``IBBroker`` (ib_async), the
shared simulated exchange core, pacing, the IB error-code table and the emergency operations.

Nothing is imported here on purpose: ``import engine.broker.ib`` pulls in ib_async, and the CLI
keeps ``--help`` fast by importing broker modules only inside commands. See ``docs/broker.md``.
"""
