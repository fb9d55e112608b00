"""The engine against the exchanges' own published worked examples (each cites its source)."""

from __future__ import annotations

import pytest

from engine.margin.model import AccountType, MarginMode, PositionMode, Side
from engine.margin.risk import evaluate_book
from engine.margin.vectorised import CompiledBook
from tests.engine.books import book, market, pos

LONG, SHORT = Side.LONG, Side.SHORT
ISO, CROSS = MarginMode.ISOLATED, MarginMode.CROSS


def test_binance_usdm_cross_one_way_faq_example():
    """Binance FAQ "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts", cross / one-way.

    Wallet 1,535,443.01 USDT; long BTCUSDT 109.488 @ 32,481.98 (mark 31,967.27, MMR 2.5%, maintenance
    amount 16,300) and long ETHUSDT 3,683.979 @ 1,456.84 (mark 1,335.18, MMR 10%, amount 135,365).
    Published: liquidation 26,316.89 (BTC) and 1,153.26 (ETH).
    """
    b = book(
        "binanceusdm",
        1_535_443.01,
        [pos("BTC/USDT:USDT", LONG, 109.488, 32_481.98), pos("ETH/USDT:USDT", LONG, 3_683.979, 1_456.84)],
        [market("BTC/USDT:USDT", 0.025, 16_300), market("ETH/USDT:USDT", 0.10, 135_365)],
    )
    risk = evaluate_book(b, {("binanceusdm", "BTC/USDT:USDT"): 31_967.27, ("binanceusdm", "ETH/USDT:USDT"): 1_335.18})
    btc, eth = risk.positions
    assert btc.liquidation_price == pytest.approx(26_316.89, abs=0.005)
    assert eth.liquidation_price == pytest.approx(1_153.26, abs=0.005)
    # The FAQ's intermediate figures: maintenance margins at the marks.
    assert btc.maintenance_margin == pytest.approx(71_200.81144, abs=1e-5)
    assert eth.maintenance_margin == pytest.approx(356_512.508, abs=1e-3)
    assert risk.accounts[0].maintenance_margin == pytest.approx(71_200.81144 + 356_512.508, abs=1e-3)


def test_binance_coinm_inverse_cross_calculator_example():
    """Binance COIN-M (inverse) BTCUSD perpetual, contract = 100 USD, cross, one position.

    Wallet 101 BTC, long 100,000 contracts @ 45,000; at the liquidation price the notional (~297.6 BTC)
    is in the 12.5% tier with maintenance amount 11.605 BTC (Binance FAQ "How to Calculate
    Liquidation Price of COIN-M Futures Contracts": 300 BTC -> 12.5%, 11.605 BTC). Binance's
    calculator, quoted on dev.binance.vision ("Coin-Margined Futures Liquidation Price Calculation
    Help"), shows 33,599.4 (its 0.1 tick).
    """
    b = book(
        "binancecoinm",
        101.0,
        [pos("BTC/USD:BTC", LONG, 100_000, 45_000)],
        [market("BTC/USD:BTC", 0.125, 11.605, contract_size=100, inverse=True)],
    )
    risk = evaluate_book(b, {("binancecoinm", "BTC/USD:BTC"): 45_000})
    liquidation = risk.positions[0].liquidation_price
    assert int(liquidation * 10) / 10 == 33_599.4


def test_binance_coinm_bundled_brackets_give_the_same_answer():
    """Same example through the bundled BTCUSD tier table: the solver must find the 12.5% tier itself."""
    from engine.margin.tiers import bundled_market

    spec = bundled_market("binancecoinm", "BTC/USD:BTC")
    b = book("binancecoinm", 101.0, [pos("BTC/USD:BTC", LONG, 100_000, 45_000)], [spec])
    risk = evaluate_book(b, {("binancecoinm", "BTC/USD:BTC"): 45_000})
    assert int(risk.positions[0].liquidation_price * 10) / 10 == 33_599.4


@pytest.mark.parametrize(
    ("side", "entry", "leverage", "published"),
    [
        # Bybit help "Liquidation Price (USDT Contract)": long 1 BTC @ 20,000, 50x, MMR 0.5% -> 19,700.
        (LONG, 20_000, 50, 19_700),
        # Bybit help (USDT perpetual, isolated), older page: long 1 @ 10,000 50x -> 9,850;
        (LONG, 10_000, 50, 9_850),
        # short 1 @ 8,000 at 40x -> 8,160.
        (SHORT, 8_000, 40, 8_160),
    ],
)
def test_bybit_usdt_isolated_examples(side, entry, leverage, published):
    """Bybit takes a linear isolated position's maintenance margin at entry: LP = entry -/+ (IM - MM) / size (the
    unified account's page revised on 2026-05-27 has a USDT section we could not read: the 2024 version holds)."""
    b = book(
        "bybit",
        100_000,
        [pos("BTC/USDT:USDT", side, 1, entry, ISO, leverage, entry / leverage)],
        [market("BTC/USDT:USDT", 0.005)],
    )
    # The mark is irrelevant to an isolated liquidation price; use one away from entry to prove it.
    risk = evaluate_book(b, {("bybit", "BTC/USDT:USDT"): entry * 1.01})
    assert risk.positions[0].liquidation_price == pytest.approx(published, abs=1e-6)


# Hyperliquid: real liquidation prices reported by the exchange (through ccxt fetch_positions) for
# isolated positions, as recorded in freqtrade's tests/exchange/test_hyperliquid.py; max leverage at
# capture: BTC and ETH 50, SOL and DOGE 20. Hyperliquid docs "Liquidations": maintenance margin is half
# the initial margin at max leverage. Columns: coin, side, entry, size, isolated margin, liquidation.
HYPERLIQUID = [
    ("ETH", LONG, 2458.5, 0.015, 36.864593, 0.86915825),
    ("BTC", LONG, 63287.0, 0.00039, 24.673292, 22.37166537),
    ("SOL", LONG, 146.82, 0.16, 23.482979, 0.05269872),
    ("SOL", LONG, 145.83, 0.33, 24.045107, 74.83696193),
    ("ETH", LONG, 2459.5, 0.0199, 24.454895, 1243.0411908),
    ("BTC", LONG, 62739.0, 0.00077, 24.137992, 31708.03843631),
    ("DOGE", LONG, 0.11586, 437.0, 25.29769, 0.05945697),
    ("ETH", SHORT, 2642.8, 0.019, 25.091876, 3924.18322043),
    ("SOL", SHORT, 155.89, 0.32, 24.924941, 228.07847866),
    ("DOGE", SHORT, 0.14333, 351.0, 25.136807, 0.20970228),
    ("BTC", SHORT, 68595.0, 0.00069, 23.64871, 101849.99354283),
    ("BTC", SHORT, 65536.0, 0.00099, 21.604172, 86493.46174617),
    ("SOL", LONG, 173.06, 0.6, 20.735658, 142.05186667),
    ("ETH", LONG, 2545.5, 0.0329, 20.909894, 1929.23322895),
    ("BTC", SHORT, 67400.0, 0.00031, 20.887308, 133443.97317151),
    ("ETH", SHORT, 2552.0, 0.0327, 20.833393, 3157.53150453),
    ("BTC", LONG, 66930.0, 0.0015, 20.043862, 54108.51043771),
    ("BTC", LONG, 67033.0, 0.00121, 20.251817, 50804.00091827),
    ("ETH", LONG, 2521.9, 0.0237, 19.902091, 1699.14071943),
    ("BTC", SHORT, 68139.0, 0.00145, 19.72573, 80933.61590987),
    ("SOL", SHORT, 178.29, 0.11, 19.605036, 347.82205322),
    ("SOL", LONG, 176.23, 0.33, 19.364946, 120.56240404),
    ("SOL", SHORT, 173.08, 0.33, 19.01881, 225.08561715),
    ("BTC", SHORT, 68240.0, 0.00105, 17.887922, 84431.79820839),
    ("ETH", SHORT, 2518.4, 0.007, 17.62263, 4986.05799151),
    ("ETH", LONG, 2533.2, 0.0347, 17.555195, 2047.7642302),
    ("DOGE", LONG, 0.13284, 360.0, 15.943218, 0.09082388),
    ("SOL", SHORT, 163.11, 0.48, 15.650731, 190.94213618),
    ("BTC", LONG, 67141.0, 0.00067, 14.979079, 45236.52992613),
]
HYPERLIQUID_MAX_LEVERAGE = {"BTC": 50, "ETH": 50, "SOL": 20, "DOGE": 20}


@pytest.mark.parametrize(("coin", "side", "entry", "size", "margin", "published"), HYPERLIQUID)
def test_hyperliquid_reported_liquidation_prices(coin, side, entry, size, margin, published):
    symbol = f"{coin}/USDC:USDC"
    # The tier's own rate is deliberately wrong: the hyperliquid profile derives it from max leverage.
    spec = market(symbol, 0.5, max_leverage=HYPERLIQUID_MAX_LEVERAGE[coin])
    b = book("hyperliquid", 1_000, [pos(symbol, side, size, entry, ISO, 1, margin)], [spec])
    risk = evaluate_book(b, {("hyperliquid", symbol): entry})
    # freqtrade compares these with rel 1e-4: the exchange rounds sizes and margins it reports.
    assert risk.positions[0].liquidation_price == pytest.approx(published, rel=1e-4)


@pytest.mark.parametrize("side", [LONG, SHORT])
@pytest.mark.parametrize("inverse", [False, True])
def test_gate_formula_with_taker_fee_in_maintenance(side, inverse):
    """Gate help "Calculation of Liquidation Price" (taker fee 0.075% added to the maintenance rate):

    linear:  LP = (entry -/+ margin / multiplier / size) / (1 -/+ (MMR + fee))   (long -, short +)
    inverse: LP = size * entry * (1 +/- MMR +/- fee) / (size +/- margin * entry)  (long +, short -)
    """
    mmr, fee, entry, margin = 0.005, 0.00075, 60_000.0, 1_500.0
    if inverse:
        size, multiplier = 20_000.0, 1.0  # USD contracts of 1 USD; margin in BTC
        margin_coin = margin / entry
        spec = market("BTC/USD:BTC", mmr, taker_fee=fee, inverse=True)
        s = 1 if side is LONG else -1
        expected = size * entry * (1 + s * mmr + s * fee) / (size + s * margin_coin * entry)
        b = book("gate", 10, [pos("BTC/USD:BTC", side, size, entry, ISO, 10, margin_coin)], [spec])
        key = ("gate", "BTC/USD:BTC")
    else:
        size, multiplier = 3.0, 0.1  # 3 contracts of 0.1 BTC each
        spec = market("BTC/USDT:USDT", mmr, taker_fee=fee, contract_size=multiplier)
        s = 1 if side is LONG else -1
        expected = (entry - s * margin / multiplier / size) / (1 - s * (mmr + fee))
        b = book("gate", 10_000, [pos("BTC/USDT:USDT", side, size, entry, ISO, 10, margin)], [spec])
        key = ("gate", "BTC/USDT:USDT")
    risk = evaluate_book(b, {key: entry})
    assert risk.positions[0].liquidation_price == pytest.approx(expected, rel=1e-12)


def test_okx_adds_taker_fee_to_maintenance_margin():
    """OKX liquidates when the margin ratio reaches MMR + the taker (liquidation) fee rate."""
    b = book(
        "okx",
        10_000,
        [pos("BTC/USDT:USDT", LONG, 1, 50_000, ISO, 20, 2_500)],
        [market("BTC/USDT:USDT", 0.004, taker_fee=0.0005)],
    )
    risk = evaluate_book(b, {("okx", "BTC/USDT:USDT"): 50_000})
    assert risk.positions[0].maintenance_margin == pytest.approx(50_000 * (0.004 + 0.0005))
    liq = risk.positions[0].liquidation_price
    assert 2_500 + (liq - 50_000) == pytest.approx(liq * 0.0045, rel=1e-12)


def test_binance_hedge_mode_long_and_short_share_the_faq_formula():
    """Binance FAQ (USDⓈ-M), cross hedge mode: long and short of one symbol share one liquidation price,

    LP = (WB - TMM1 + UPNL1 + cumL + cumS - PosL*EPL + PosS*EPS) / (PosL*MMRL + PosS*MMRS - PosL + PosS).
    No worked numbers are published for hedge mode, so the engine is held to the formula itself.
    """
    wb, long_size, long_entry, short_size, short_entry, mmr, cum = 20_000.0, 2.0, 60_000.0, 0.5, 64_000.0, 0.01, 50.0
    b = book(
        "binanceusdm",
        wb,
        [pos("BTC/USDT:USDT", LONG, long_size, long_entry), pos("BTC/USDT:USDT", SHORT, short_size, short_entry)],
        [market("BTC/USDT:USDT", mmr, cum)],
        PositionMode.HEDGE,
    )
    risk = evaluate_book(b, {("binanceusdm", "BTC/USDT:USDT"): 61_000})
    expected = (wb + 2 * cum - long_size * long_entry + short_size * short_entry) / (
        long_size * mmr + short_size * mmr - long_size + short_size
    )
    long_risk, short_risk = risk.positions
    assert long_risk.liquidation_price == pytest.approx(expected, rel=1e-12)
    assert short_risk.liquidation_price == long_risk.liquidation_price
    # Net long: the price that hurts is below, and both legs report the same positive distance.
    assert long_risk.distance_to_liquidation == pytest.approx((61_000 - expected) / 61_000)
    assert short_risk.distance_to_liquidation == long_risk.distance_to_liquidation


def _both_paths(b, prices) -> list[float]:
    """The liquidation prices of the scalar path, checked against the vectorised path (same figures)."""
    scalar = [r.liquidation_price for r in evaluate_book(b, prices).positions]
    compiled = CompiledBook(b)
    vector = compiled.recompute(compiled.prices_from(prices)).liquidation_price
    assert list(vector) == pytest.approx(scalar, rel=1e-12)
    return scalar


def test_bybit_classic_cross_example_1_takes_maintenance_at_entry():
    """Bybit help centre "Liquidation Price (USDT Contract)" (help.bybit.com article 900000181046), cross,
    example 1 (only one unhedged position), read 2026-12-01: long 2 BTC @ 10,000, 100x, available balance 2,000,
    mark 10,500 (unrealized profit 1,000, not in the available balance).

    By hand: initial margin = 2 x 10,000 x 1% = 200; maintenance = 2 x 10,000 x 0.5% = 100 (at entry);
    sustainable loss = available 2,000 + IM 200 - MM 100 = 2,100; LP = 10,000 - 2,100 / 2 = 8,950.
    The wallet is available + initial margin = 2,200. A unified account takes the maintenance at the mark:
    2,200 + 2 (P - 10,000) = 2 P x 0.5% -> P = 17,800 / 1.99 = 8,944.72 (what the product gave for both before).
    """
    positions = [pos("BTC/USDT:USDT", LONG, 2, 10_000, CROSS, 100)]
    prices = {("bybit", "BTC/USDT:USDT"): 10_500}
    classic = book("bybit", 2_200, positions, [market("BTC/USDT:USDT", 0.005)], account_type=AccountType.CLASSIC)
    assert _both_paths(classic, prices) == [pytest.approx(8_950, abs=1e-9)]
    assert evaluate_book(classic, prices).positions[0].maintenance_margin == pytest.approx(100)
    unified = book("bybit", 2_200, positions, [market("BTC/USDT:USDT", 0.005)])
    assert _both_paths(unified, prices) == [pytest.approx(17_800 / 1.99, rel=1e-12)]


def test_bybit_classic_inverse_cross_adds_the_fee_to_close():
    """Bybit help centre "How to calculate Liquidation Price (Inverse Contract)" (article 360039261334), cross,
    read 2026-12-01: balance 0.5 BTC, long 10,000 contracts (1 USD each) @ 8,000, MMR 0.5%, fee 0.075%:

        Q (1/entry - 1/LP) = -(balance - Q/entry x MMR - Q x 0.075% / bankruptcy price)

    with bankruptcy price = 1.00075 Q / (Q/entry + balance) = 5,718.57. That formula gives 5,739.0835 (the page
    prints 5,739.50, which its own formula does not give). The engine takes the fee on the notional at the
    liquidation price rather than at the bankruptcy price (the equation stays linear in 1/price):
    0.5 + Q (1/8,000 - z) = Q/8,000 x 0.5% + Q z x 0.075% -> z = (0.5 + 1.25 - 0.00625) / (Q x 1.00075),
    LP = 1/z = 5,739.0681: 0.015 USD (0.0003%) from the page's formula.
    """
    q, entry, balance, mmr, fee = 10_000.0, 8_000.0, 0.5, 0.005, 0.00075
    spec = market("BTC/USD:BTC", mmr, taker_fee=fee, inverse=True)
    position = pos("BTC/USD:BTC", LONG, q, entry, CROSS, 100)
    b = book("bybit", balance, [position], [spec], account_type=AccountType.CLASSIC)
    (liquidation,) = _both_paths(b, {("bybit", "BTC/USD:BTC"): entry})
    by_hand = q * (1 + fee) / (balance + q / entry - q / entry * mmr)
    assert liquidation == pytest.approx(by_hand, rel=1e-12)
    bankruptcy = (1 + fee) * q / (q / entry + balance)
    page_formula = 1 / (1 / entry + (balance - q / entry * mmr - q * fee / bankruptcy) / q)
    assert page_formula == pytest.approx(5_739.0835, abs=1e-4)
    assert abs(liquidation - page_formula) < 0.02
    # A unified account neither takes the maintenance at entry nor adds the fee here.
    unified = book("bybit", balance, [position], [spec])
    assert _both_paths(unified, {("bybit", "BTC/USD:BTC"): entry}) != [pytest.approx(by_hand)]


def test_kucoin_isolated_maintenance_and_liquidation_fee_at_the_mark():
    """KuCoin announcement "Important: Update to the Isolated Margin Calculation Formula" (2025-05-20, in force
    2025-05-22; supplemental notice 2025-05-29), read 2026-12-01: maintenance = mark x size x multiplier x (MMR +
    liquidation fee rate). It gives no worked example; by hand, long 100 contracts x 0.001 BTC @ 60,000, 10x
    (margin 600), MMR 0.4%, fee rate 0.06%: 600 + 0.1 (P - 60,000) = 0.1 P x 0.46% -> P = 5,400 / 0.09954 =
    54,249.548.

    The older help page "How to Calculate the Liquidation Price for KuCoin Contracts" took the maintenance at
    entry (short 5 x 0.001 @ 28,000, 100x, MMR 0.4% -> 28,168); under the rule in force since 2025-05-22 the same
    position, without fee, goes at (140 + 1.4) / (0.005 x 1.004) = 28,167.33.
    """
    spec = market("BTC/USDT:USDT", 0.004, taker_fee=0.0006, contract_size=0.001)
    b = book("kucoinfutures", 10_000, [pos("BTC/USDT:USDT", LONG, 100, 60_000, ISO, 10, 600)], [spec])
    assert _both_paths(b, {("kucoinfutures", "BTC/USDT:USDT"): 61_000}) == [pytest.approx(54_249.54792, abs=1e-5)]
    old = market("BTC/USDT:USDT", 0.004, contract_size=0.001)
    b = book("kucoinfutures", 10_000, [pos("BTC/USDT:USDT", SHORT, 5, 28_000, ISO, 100, 1.4)], [old])
    assert _both_paths(b, {("kucoinfutures", "BTC/USDT:USDT"): 28_000}) == [pytest.approx(28_167.3307, abs=1e-4)]


def test_kucoin_cross_risk_rate_counts_the_closing_fee():
    """KuCoin help centre "Risk Rate of Cross Margin Mode", read 2026-12-01: risk rate = (maintenance at the mark +
    expected closing fees) / (total margin - expected opening fees). Its example also holds an open ETH order, which
    the product does not model; the BTC position alone, by hand: 5,000 USDT, long 100 x 0.001 BTC at mark 62,000,
    MMR 0.5%, taker 0.06%: maintenance 31 + closing fee 3.72 = 34.72, risk rate 34.72 / 5,000 = 0.6944%.
    """
    spec = market("BTC/USDT:USDT", 0.005, taker_fee=0.0006, contract_size=0.001)
    b = book("kucoinfutures", 5_000, [pos("BTC/USDT:USDT", LONG, 100, 62_000, CROSS, 10)], [spec])
    risk = evaluate_book(b, {("kucoinfutures", "BTC/USDT:USDT"): 62_000})
    assert risk.positions[0].maintenance_margin == pytest.approx(34.72)
    assert risk.accounts[0].margin_ratio == pytest.approx(0.006944)


@pytest.mark.parametrize(("side", "published"), [(LONG, 36_166.36528), (SHORT, 43_798.52678)])
def test_bitget_isolated_formula_with_taker_fee(side, published):
    """Bitget "Bitget futures: Estimated liquidation price" (2025-09-18), read 2026-12-01, isolated:

        LP = (margin - size x entry x dir) / (size x (MMR + TakerFeeRatio - dir)),  dir = 1 long, -1 short.

    The page gives no worked numbers; by hand, 0.5 BTC @ 40,000 with 2,000 margin, MMR 0.4%, taker 0.06%:
    long (2,000 - 20,000) / (0.5 x -0.9954) = 36,166.365; short 22,000 / (0.5 x 1.0046) = 43,798.527.
    """
    spec = market("BTC/USDT:USDT", 0.004, taker_fee=0.0006)
    b = book("bitget", 10_000, [pos("BTC/USDT:USDT", side, 0.5, 40_000, ISO, 10, 2_000)], [spec])
    assert _both_paths(b, {("bitget", "BTC/USDT:USDT"): 40_000}) == [pytest.approx(published, abs=1e-5)]


def test_phemex_usdt_m_isolated_example():
    """Phemex help centre "Liquidation price for USDT-M" (liq-price-for-USDTM), read 2026-12-01, isolated long:
    LP = (OpenValue - assignedPosBalance - mmAmount) / (0.9994 - MMR) / size, taker 0.06%. Example: 500 contracts
    at 0.4 (OpenValue 200), 5x, MMR 1%: assignedPosBalance = 200/5 + (200 - 40) x 0.06% = 40.096 (the position
    margin holds the fee to close); LP = 159.904 / 0.9894 / 500 = 0.3232... (the page's figure).
    """
    spec = market("XRP/USDT:USDT", 0.01, taker_fee=0.0006)
    b = book("phemex", 1_000, [pos("XRP/USDT:USDT", LONG, 500, 0.4, ISO, 5, 40.096)], [spec])
    (liquidation,) = _both_paths(b, {("phemex", "XRP/USDT:USDT"): 0.4})
    assert liquidation == pytest.approx((200 - 40.096) / (0.9994 - 0.01) / 500, rel=1e-12)
    assert f"{liquidation:.4f}" == "0.3232"


@pytest.mark.parametrize(("fee", "published"), [(0.0, 48_200.0), (0.0002, 48_209.64193)])
def test_mexc_maintenance_at_entry(fee, published):
    """MEXC blog "Liquidation in Futures" (blog.mexc.fm), read 2026-12-01: long 0.1 BTC @ 50,000, 25x, MMR 0.4%:
    maintenance = 50,000 x 0.1 x 0.4% = 20 (at entry), position margin 200, LP = (20 - 200 + 5,000) / 0.1 = 48,200
    (commission excluded). MEXC's announcement "About Liquidation" adds the liquidation fees, paid on the closing
    value; by hand with a 0.02% fee: 200 + 0.1 (P - 50,000) = 20 + 0.1 P x 0.02% -> P = 4,820 / 0.09998 = 48,209.64.
    """
    spec = market("BTC/USDT:USDT", 0.004, taker_fee=fee)
    b = book("mexc", 10_000, [pos("BTC/USDT:USDT", LONG, 0.1, 50_000, ISO, 25, 200)], [spec])
    assert _both_paths(b, {("mexc", "BTC/USDT:USDT"): 52_000}) == [pytest.approx(published, abs=1e-5)]


@pytest.mark.parametrize(
    ("symbol", "base_rate", "size", "mark", "published"),
    [
        ("BTC/USDC:USDC", 0.01, 25.0, 100_000, 28_125.0),
        ("BTC/USDC:USDC", 0.01, 350.0, 100_000, 962_500.0),
        ("SOL/USDC:USDC", 0.02, 25.0, 200, 100.625),
    ],
)
def test_deribit_linear_maintenance_grows_with_size(symbol, base_rate, size, mark, published):
    """Deribit support "Linear Perpetual" (standard margin), read 2026-12-01: maintenance rate = 1% + size in BTC x
    0.005% (BTC_USDC at 100,000: 25 BTC -> 1.125% -> 28,125 USDC; 350 BTC -> 2.75% -> 962,500 USDC) and 2% + size
    in SOL x 0.0005% (SOL_USDC at 200: 25 SOL -> 2.0125% -> 100.625 USDC)."""
    b = book("deribit", 1e9, [pos(symbol, LONG, size, mark, CROSS, 10)], [market(symbol, base_rate)])
    risk = evaluate_book(b, {("deribit", symbol): mark})
    assert risk.positions[0].maintenance_margin == pytest.approx(published, rel=1e-12)


def test_deribit_linear_liquidation_with_the_size_increment():
    """No liquidation price is published; by hand from the page's rate: cross long 25 BTC @ 100,000 on a 300,000
    USDC wallet, rate 1.125%: 300,000 + 25 (P - 100,000) = 25 P x 1.125% -> P = 2,200,000 / (25 x 0.98875) =
    89,001.264 (at the base rate alone it would be 88,888.89: further away, the dangerous direction)."""
    b = book("deribit", 300_000, [pos("BTC/USDC:USDC", LONG, 25, 100_000, CROSS, 10)], [market("BTC/USDC:USDC", 0.01)])
    assert _both_paths(b, {("deribit", "BTC/USDC:USDC"): 100_000}) == [pytest.approx(89_001.26422, abs=1e-5)]


def test_bybit_unified_isolated_inverse_example():
    """Bybit help centre "Liquidation Price Calculation under Isolated Mode (Unified Trading Account)", inverse
    perpetual, the revision of 2026-05-27 (read 2026-12-01): LP (long) = size x (MMR + 1) / [size / entry + size /
    entry / leverage + extra / (1 + fee) + deduction], LP (short) = size x (1 - MMR) / [size / entry - size / entry
    / leverage - extra / (1 - fee) - deduction]: the maintenance margin at the mark (position value = quantity /
    mark price). Its example: long 60,000 USD of BTCUSD @ 50,000, 10x, MMR 0.5%, no extra margin: 60,000 x 1.005
    / (1.2 + 0.12) = 45,681.82; the same short: 60,000 x 0.995 / (1.2 - 0.12) = 55,277.78. (The 2024 version took
    the maintenance at entry: 45,662.10, 19.72 USD past the exchange's liquidation.) A classic account adds the
    fee to close on inverse contracts (test above); a unified one does not, whatever the taker fee.
    """
    spec = market("BTC/USD:BTC", 0.005, taker_fee=0.00055, inverse=True)
    marks = {("bybit", "BTC/USD:BTC"): 50_000}
    long = book("bybit", 1, [pos("BTC/USD:BTC", LONG, 60_000, 50_000, ISO, 10, 0.12)], [spec])
    assert _both_paths(long, marks) == [pytest.approx(60_300 / 1.32, rel=1e-12)]
    assert _both_paths(long, marks)[0] == pytest.approx(45_681.82, abs=0.005)
    short = book("bybit", 1, [pos("BTC/USD:BTC", SHORT, 60_000, 50_000, ISO, 10, 0.12)], [spec])
    assert _both_paths(short, marks) == [pytest.approx(59_700 / 1.08, rel=1e-12)]
    assert _both_paths(short, marks)[0] == pytest.approx(55_277.78, abs=0.005)
