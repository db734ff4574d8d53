"""End to end: the real, unmodified ib_async ``IB`` client against the simulated gateway."""

from __future__ import annotations

import asyncio
import logging
import struct

import pytest
from ib_async import IB, Contract, ExecutionFilter, LimitOrder, MarketOrder, Order, Stock

from engine.broker.simgateway import SimGateway
from engine.broker.simgateway.framing import FrameDecoder, encode_frame, prefix, split_fields
from tests.test_engine.test_simgateway.support import connect, quiet_config, run, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.broker]

INITIAL_CASH = 1_000_000.0


def _value(ib: IB, tag: str, currency: str = "USD") -> float:
    [v] = [v for v in ib.accountValues() if v.tag == tag and v.currency == currency]
    return float(v.value)


def test_connect_and_startup_sync_complete_without_timeouts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            errors: list[int] = []
            ib = IB()
            ib.errorEvent += lambda req_id, code, msg, contract: errors.append(code)
            with caplog.at_level(logging.ERROR, logger="ib_async"):
                await ib.connectAsync(
                    "127.0.0.1", gw.port, clientId=1, timeout=2, raiseSyncErrors=True
                )
            assert ib.isConnected() and ib.managedAccounts() == [gw.config.account]
            assert gw.config.account.startswith("DU")
            assert {2104, 2106, 2158} <= set(errors)  # farm status, informational
            assert not [r for r in caplog.records if "timed out" in r.getMessage()]
            assert _value(ib, "NetLiquidation") == INITIAL_CASH
            assert ib.client.serverVersion() == 178
            ib.disconnect()

    run(scenario())


def test_account_summary_positions_and_qualify() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port)
            summary = {(v.tag, v.currency): v.value for v in await ib.accountSummaryAsync()}
            assert float(summary[("NetLiquidation", "USD")]) == INITIAL_CASH
            assert float(summary[("TotalCashValue", "USD")]) == INITIAL_CASH
            assert summary[("AccountType", "")] == "INDIVIDUAL"
            assert ib.positions() == []
            aapl, msft = Stock("AAPL", "SMART", "USD"), Stock("MSFT", "SMART", "USD")
            bogus = Contract(secType="FUT", symbol="ZZZ", exchange="CME")
            result = await ib.qualifyContractsAsync(aapl, msft, bogus)
            assert result[2] is None
            assert aapl.conId and msft.conId and aapl.conId != msft.conId
            assert aapl.primaryExchange == "NASDAQ"
            ib.disconnect()

    run(scenario())


def test_buy_then_sell_fills_with_commissions_and_ledger_follows() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port)
            [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
            buy = ib.placeOrder(aapl, MarketOrder("BUY", 100, orderRef="intent-1"))
            await wait_until(
                lambda: buy.isDone() and buy.fills and buy.fills[-1].commissionReport.commission > 0
            )
            assert buy.orderStatus.status == "Filled" and buy.orderStatus.filled == 100
            fill = buy.fills[0]
            assert fill.execution.side == "BOT" and fill.execution.orderRef == "intent-1"
            price, commission = fill.execution.price, fill.commissionReport.commission
            ask = gw.core.exchange.quote("AAPL").ask
            assert price == pytest.approx(ask)
            # IBKR Pro tiered: 100 sh × 0.0035 = 0.35 (the minimum) + clearing 100 × 0.0002
            assert commission == pytest.approx(0.37, abs=1e-6)
            await wait_until(lambda: bool(ib.positions()) and bool(ib.portfolio()))
            [pos] = ib.positions()
            assert pos.contract.conId == aapl.conId and pos.position == 100
            assert pos.avgCost == pytest.approx(price)
            await wait_until(lambda: _value(ib, "TotalCashValue") < INITIAL_CASH)
            assert _value(ib, "TotalCashValue") == pytest.approx(
                INITIAL_CASH - 100 * price - commission, abs=0.01
            )

            sell = ib.placeOrder(aapl, MarketOrder("SELL", 40))
            await wait_until(
                lambda: (
                    sell.isDone() and sell.fills and sell.fills[-1].commissionReport.execId != ""
                )
            )
            assert sell.fills[0].execution.side == "SLD"
            bid = gw.core.exchange.quote("AAPL").bid
            assert sell.fills[0].commissionReport.realizedPNL == pytest.approx(
                40 * (bid - price), abs=1e-6
            )
            await wait_until(lambda: ib.positions()[0].position == 60)
            truth = {p.symbol: p.quantity for p in gw.core.exchange.positions()}
            assert truth == {"AAPL": 60}
            ib.disconnect()

    run(scenario())


def test_limit_order_rests_then_fills_when_market_moves_through() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port)
            [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
            mid = gw.core.exchange.last_price("AAPL")
            limit = round(mid * 0.99, 2)
            trade = ib.placeOrder(aapl, LimitOrder("BUY", 10, limit))
            await wait_until(lambda: trade.orderStatus.status == "Submitted")
            await asyncio.sleep(0.05)
            assert trade.orderStatus.status == "Submitted" and not trade.fills
            assert [t.order.orderId for t in ib.openTrades()] == [trade.order.orderId]
            gw.set_price("AAPL", round(mid * 0.985, 2))
            await wait_until(lambda: trade.orderStatus.status == "Filled")
            assert trade.fills[0].execution.price <= limit
            ib.disconnect()

    run(scenario())


def test_cancel_and_global_cancel() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port)
            [aapl, msft] = await ib.qualifyContractsAsync(
                Stock("AAPL", "SMART", "USD"), Stock("MSFT", "SMART", "USD")
            )
            px = {s: gw.core.exchange.last_price(s) for s in ("AAPL", "MSFT")}
            one = ib.placeOrder(aapl, LimitOrder("BUY", 1, round(px["AAPL"] * 0.98, 2)))
            await wait_until(lambda: one.orderStatus.status == "Submitted")
            ib.cancelOrder(one.order)
            await wait_until(lambda: one.orderStatus.status == "Cancelled")
            trades = [
                ib.placeOrder(aapl, LimitOrder("BUY", 2, round(px["AAPL"] * 0.97, 2))),
                ib.placeOrder(msft, LimitOrder("SELL", 3, round(px["MSFT"] * 1.03, 2))),
            ]
            await wait_until(lambda: all(t.orderStatus.status == "Submitted" for t in trades))
            ib.reqGlobalCancel()
            await wait_until(lambda: all(t.orderStatus.status == "Cancelled" for t in trades))
            assert gw.core.exchange.open_orders() == []
            assert gw.core.stats.cancels == 3
            ib.disconnect()

    run(scenario())


def test_readonly_connection_and_second_client_see_the_same_account() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            trader = await connect(gw.port, client_id=1)
            [aapl] = await trader.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
            mid = gw.core.exchange.last_price("AAPL")
            resting = trader.placeOrder(aapl, LimitOrder("BUY", 5, round(mid * 0.98, 2)))
            filled = trader.placeOrder(aapl, MarketOrder("BUY", 7))
            await wait_until(lambda: filled.isDone() and resting.orderStatus.status == "Submitted")
            viewer = await connect(gw.port, client_id=2, readonly=True)
            assert [p.position for p in viewer.positions()] == [7]
            assert viewer.openTrades() == []  # readonly skips the open-order sync
            other = await connect(gw.port, client_id=3)
            assert other.openTrades() == []  # reqOpenOrders is scoped to the client id
            assert len(other.fills()) == 1  # but executions are account-wide (filter clientId 0)
            again = await connect(gw.port, client_id=4)
            fills = await again.reqExecutionsAsync(ExecutionFilter(clientId=1))
            assert [f.execution.shares for f in fills] == [7]
            for ib in (trader, viewer, other, again):
                ib.disconnect()

    run(scenario())


def test_duplicate_client_id_gets_326_and_connection_closed() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            first = await connect(gw.port, client_id=7)
            second = IB()
            codes: list[int] = []
            second.errorEvent += lambda req_id, code, msg, contract: codes.append(code)
            with pytest.raises((TimeoutError, ConnectionError)):
                await second.connectAsync("127.0.0.1", gw.port, clientId=7, timeout=1)
            assert 326 in codes
            assert first.isConnected()
            first.disconnect()

    run(scenario())


def test_market_data_history_what_if_and_clock() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port)
            [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
            [ticker] = await ib.reqTickersAsync(aapl)
            q = gw.core.exchange.quote("AAPL")
            assert ticker.bid == pytest.approx(round(q.bid, 4)) and ticker.ask == pytest.approx(
                round(q.ask, 4)
            )
            stream = ib.reqMktData(aapl)
            gw.set_price("AAPL", 123.45)
            await wait_until(lambda: stream.last == 123.45)
            ib.cancelMktData(aapl)
            bars = await ib.reqHistoricalDataAsync(aapl, "", "10 D", "1 day", "TRADES", True)
            assert len(bars) == 10 and bars[-1].close == pytest.approx(123.45)
            assert all(
                b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars
            )
            state = await ib.whatIfOrderAsync(aapl, MarketOrder("BUY", 100))
            assert float(state.initMarginChange) == pytest.approx(100 * 123.45 * 0.5, rel=0.01)
            assert gw.core.exchange.orders() == []  # what-if never reaches the exchange
            now = await ib.reqCurrentTimeAsync()
            assert abs(now.timestamp() - gw.core.clock()) < 5
            ib.disconnect()

    run(scenario())


def _raw_handshake(port: int, offer: bytes) -> list[list[str]]:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(b"API\0" + prefix(offer))
        decoder = FrameDecoder()
        out: list[list[str]] = []
        while True:
            data = sock.recv(4096)
            if not data:
                return out
            out += [split_fields(p) for p in decoder.feed(data)]
            if out and out[0][0] != "4":
                sock.sendall(encode_frame([71, 2, 5, ""]))
                sock.settimeout(0.5)
                try:
                    while len(out) < 3:
                        out += [split_fields(p) for p in decoder.feed(sock.recv(4096))]
                except TimeoutError:
                    pass
                return out


def test_version_negotiation_and_refusal() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config(server_version=170)) as gw:
            ok = await asyncio.to_thread(_raw_handshake, gw.port, b"v157..178")
            assert len(ok[0]) == 2 and ok[0][0] == "170"  # two fields: version, time
            assert ["9", "1", "1"] in ok and ["15", "1", gw.config.account] in ok
            refused = await asyncio.to_thread(_raw_handshake, gw.port, b"v100..120")
            assert refused[0][:4] == ["4", "2", "-1", "503"]
            assert "157..178" in refused[0][4] and "ib_async<3" in refused[0][4]
            ib = await connect(gw.port)
            assert ib.client.serverVersion() == 170  # the real client accepts the lower version
            ib.disconnect()

    run(scenario())


def test_garbage_is_not_a_client() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
            writer.write(b"GET / HTTP/1.1\r\n\r\n")
            await writer.drain()
            assert await asyncio.wait_for(reader.read(), 2) == b""
            writer.close()
            assert struct.calcsize(">I") == 4

    run(scenario())


def test_partial_fills_latency_and_completed_orders() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config(latency_ms=30)) as gw:
            ib = await connect(gw.port)
            [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
            gw.set_price("AAPL", 50.0)  # keep 6,000 shares inside the buying power
            # 6,000 shares against 10,000 at the touch with 25 % participation: 2,500 a slice
            trade = ib.placeOrder(aapl, MarketOrder("BUY", 6000))
            await wait_until(lambda: trade.orderStatus.status == "Submitted")
            assert trade.fills == []  # 30 ms latency: acknowledged first, filled later
            await wait_until(lambda: trade.orderStatus.status == "Filled", timeout=5)
            assert [f.execution.shares for f in trade.fills] == [2500, 2500, 1000]
            assert [f.execution.cumQty for f in trade.fills] == [2500, 5000, 6000]
            assert len({f.execution.execId for f in trade.fills}) == 3
            await wait_until(lambda: all(f.commissionReport.execId for f in trade.fills))
            done = await ib.reqCompletedOrdersAsync(apiOnly=True)
            assert [(t.order.permId, t.orderStatus.status) for t in done] == [
                (trade.order.permId, "Filled")
            ]
            ib.disconnect()

    run(scenario())


def test_order_errors_unknown_contract_unsupported_type_and_modification() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config(admit_unknown_symbols=False)) as gw:
            ib = await connect(gw.port)
            codes: list[tuple[int, int]] = []
            ib.errorEvent += lambda req_id, code, msg, contract: codes.append((req_id, code))
            [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
            unknown = ib.placeOrder(Stock("NOPE", "SMART", "USD"), MarketOrder("BUY", 1))
            trail = ib.placeOrder(aapl, Order(action="BUY", totalQuantity=1, orderType="TRAIL"))
            mid = gw.core.exchange.last_price("AAPL")
            live = ib.placeOrder(aapl, LimitOrder("BUY", 1, round(mid * 0.98, 2)))
            await wait_until(lambda: live.orderStatus.status == "Submitted")
            live.order.lmtPrice = round(mid * 0.97, 2)
            ib.placeOrder(aapl, live.order)  # a modification
            await wait_until(lambda: (live.order.orderId, 105) in codes)
            assert (unknown.order.orderId, 200) in codes
            assert (trail.order.orderId, 201) in codes
            assert [o.limit_price for o in gw.core.exchange.open_orders()] == [round(mid * 0.98, 2)]
            before = ib.client._reqIdSeq
            ib.client.reqIds(1)
            await wait_until(lambda: ib.client._reqIdSeq >= before)
            assert gw.core.next_order_id() > live.order.orderId
            ib.disconnect()

    run(scenario())


def test_synthetic_market_prices_and_history() -> None:
    from engine.broker.simgateway.prices import SyntheticPriceSource
    from engine.config import SyntheticMarketConfig
    from engine.data.synthetic import SyntheticMarket

    panel = SyntheticMarket(SyntheticMarketConfig(seed=3)).daily_panel()
    j = panel.symbols.index("AAPL")
    closes = [round(float(x), 2) for x in panel.close[-5:, j]]

    async def scenario() -> None:
        config = quiet_config(seed=3, price_model="synthetic")
        async with SimGateway(config) as gw:
            assert isinstance(gw.core.prices, SyntheticPriceSource)
            assert gw.core.exchange.last_price("AAPL") == closes[-1]  # anchored on the last close
            ib = await connect(gw.port)
            [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
            bars = await ib.reqHistoricalDataAsync(aapl, "", "5 D", "1 day", "TRADES", True)
            assert [b.close for b in bars] == closes
            assert all(b.date.weekday() < 5 for b in bars)
            assert sorted(b.date for b in bars) == [b.date for b in bars]
            ib.disconnect()

    run(scenario())


def test_read_only_api_setting_refuses_orders_with_321() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config(read_only_api=True)) as gw:
            ib = await connect(gw.port)
            codes: list[tuple[int, int]] = []
            ib.errorEvent += lambda req_id, code, msg, contract: codes.append((req_id, code))
            [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
            trade = ib.placeOrder(aapl, MarketOrder("BUY", 1))
            ib.reqGlobalCancel()
            await wait_until(lambda: (trade.order.orderId, 321) in codes and (-1, 321) in codes)
            assert gw.core.exchange.orders() == []
            assert (
                float(
                    next(
                        v.value for v in await ib.accountSummaryAsync() if v.tag == "NetLiquidation"
                    )
                )
                > 0
            )
            ib.disconnect()

    run(scenario())


def test_malformed_request_gets_320_and_the_connection_survives() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port)
            codes: list[tuple[int, int]] = []
            ib.errorEvent += lambda req_id, code, msg, contract: codes.append((req_id, code))
            ib.client.send(9, 8, 77)  # reqContractDetails cut short after the reqId
            ib.client.send(3, "not-an-order-id")  # a placeOrder missing its whole layout
            await wait_until(lambda: (77, 320) in codes and (-1, 320) in codes)
            assert ib.isConnected()
            assert (await ib.reqCurrentTimeAsync()).year >= 2024
            ib.disconnect()

    run(scenario())


def test_pnl_subscriptions_follow_fills() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port)
            [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
            account = gw.config.account
            pnl = ib.reqPnL(account)
            single = ib.reqPnLSingle(account, "", aapl.conId)
            await wait_until(lambda: pnl.unrealizedPnL == 0.0 and single.position == 0.0)
            trade = ib.placeOrder(aapl, MarketOrder("BUY", 100))
            await wait_until(lambda: trade.isDone() and single.position == 100.0)
            gw.set_price("AAPL", round(trade.orderStatus.avgFillPrice + 1.0, 2))
            ib.placeOrder(aapl, MarketOrder("SELL", 10))
            await wait_until(lambda: single.position == 90.0)
            truth = next(p for p in gw.core.exchange.positions() if p.symbol == "AAPL")
            assert single.unrealizedPnL == pytest.approx(truth.unrealized_pnl, abs=0.01)
            assert (
                single.realizedPnL == pytest.approx(truth.realized_pnl, abs=0.01)
                and single.realizedPnL > 0
            )
            assert single.value == pytest.approx(truth.market_value, abs=0.01)
            assert pnl.realizedPnL == pytest.approx(truth.realized_pnl, abs=0.01)
            ib.cancelPnL(account)
            ib.cancelPnLSingle(account, "", aapl.conId)
            await wait_until(lambda: not next(iter(gw.sessions)).subs.pnl)
            ib.disconnect()

    run(scenario())


def test_lower_negotiated_version_gets_its_own_layouts(caplog: pytest.LogCaptureFixture) -> None:
    """A client offering v157..170 to a v178 gateway gets v170 frames ib_async decodes cleanly."""
    import socket

    from tests.test_engine.test_simgateway.support import (
        DecodeRecorder,
        decoder_errors,
        place_order_fields,
    )

    def session(port: int, limit: float) -> list[bytes]:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
            sock.sendall(b"API\0" + prefix(b"v157..170"))
            decoder = FrameDecoder()
            frames: list[bytes] = []

            def until(pred: object) -> None:
                while not any(pred(split_fields(f)) for f in frames):  # type: ignore[operator]
                    frames.extend(decoder.feed(sock.recv(65536)))

            until(lambda f: len(f) == 2)
            assert split_fields(frames[0])[0] == "170"
            sock.sendall(encode_frame([71, 2, 9, ""]))
            until(lambda f: f[:1] == ["15"])
            order = place_order_fields(
                170, 1, Stock("AAPL", "SMART", "USD"), LimitOrder("BUY", 1, limit)
            )
            sock.sendall(encode_frame(order))
            until(lambda f: f[:1] == ["3"])
            sock.sendall(encode_frame([5, 1]) + encode_frame([7, 3, 1, 0, "", "", "", "", "", ""]))
            until(lambda f: f[:1] == ["55"])
            return frames[1:]

    async def scenario() -> list[bytes]:
        async with SimGateway(quiet_config()) as gw:
            limit = round(gw.core.exchange.last_price("AAPL") * 0.98, 2)  # rests, inside the collar
            return await asyncio.to_thread(session, gw.port, limit)

    frames = run(scenario())
    recorder = DecodeRecorder(170)
    with decoder_errors(caplog) as errors:
        for payload in frames:
            recorder.feed_frame(struct.pack(">I", len(payload)) + payload)
    assert errors == []
    names = [n for n, _ in recorder.calls]
    assert names.count("openOrder") == 2 and "openOrderEnd" in names and "execDetailsEnd" in names


def test_latency_is_honoured_between_clock_ticks() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config(latency_ms=40, tick_interval=2.0)) as gw:
            ib = await connect(gw.port)
            [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
            loop = asyncio.get_running_loop()
            start = loop.time()
            trade = ib.placeOrder(aapl, MarketOrder("BUY", 1))
            await wait_until(lambda: trade.orderStatus.status == "Filled", timeout=1.5)
            elapsed = loop.time() - start
            assert 0.035 <= elapsed < 1.0  # the latency, not the 2 s clock tick
            ib.disconnect()

    run(scenario())
