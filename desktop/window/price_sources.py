"""Where the window's prices come from: the feeds (started, stopped, restarted for new symbols), working
offline, and manual prices typed by the user (saved with the book, per exchange and symbol).

No widgets here: the window asks the user what to do and tells the sources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from engine.book.portfolio import Portfolio
from engine.margin.model import PriceKey
from engine.market.prices import PriceSource, PriceStore

if TYPE_CHECKING:
    from engine.monitor.watch import Feed
    from engine.storage.database import BookDatabase

FeedFactory = Callable[[Sequence[PriceKey], PriceStore], Sequence["Feed"]]


class PriceSources:
    """The price store and what writes into it.

    feeds: the running feeds (started here); feed_factory: makes feeds for a set of price keys (None: the
    window can never go online, e.g. a portfolio file opened offline); database: the saved book now, to
    keep manual prices with (None: nothing is saved)."""

    def __init__(
        self,
        store: PriceStore,
        feeds: Sequence[Feed],
        feed_factory: FeedFactory | None,
        database: Callable[[], BookDatabase | None],
    ) -> None:
        self.store = store
        self.feeds = list(feeds)
        self.feed_factory = feed_factory
        self._database = database
        self.offline = not self.feeds
        self.prices_typed = False
        """A price was typed (or kept over a live one): manual prices are no longer only the book's own."""
        for feed in self.feeds:  # first, so prices a feed has at once (the simulated one) show at once
            feed.start()

    @property
    def working_offline(self) -> bool:
        """The user works offline (File ▸ Work offline, or started so): feeds could run and do not."""
        return self.offline and self.feed_factory is not None

    def type_price(self, key: PriceKey, mark: float) -> str:
        """A manual price typed by the user, kept with the book; '' or why it was not saved."""
        self.store.set_manual(key, mark)
        self.prices_typed = True
        return self.save_manual([key])

    def save_manual(self, keys: Iterable[PriceKey]) -> str:
        """Keep (or clear, after Back to live) the store's manual prices of these keys with the saved book;
        '' or why they were not saved (the prices are used either way)."""
        database = self._database()
        if database is None:
            return ""
        from engine.storage.errors import StorageError

        marks = {}
        for key in keys:
            quote = self.store.quote(key)
            marks[key] = quote.mark if quote is not None and quote.source is PriceSource.MANUAL else None
        try:
            database.save_manual_prices(marks)
        except StorageError as e:
            return str(e)
        return ""

    def go_offline(self) -> None:
        """Stop the feeds and keep their last prices as manual ones."""
        self.offline = True
        self.stop()
        self.feeds = []
        self.store.freeze_as_manual()
        self.prices_typed = True  # the manual prices are now the feeds' last ones

    def go_online(self, keys: Sequence[PriceKey], replace_manual: bool) -> str:
        """New feeds for these keys; the manual prices are dropped only when replace_manual. '' or why the
        cleared manual prices could not be saved."""
        self.offline = False
        problem = ""
        if replace_manual:
            self.store.clear_manual()
            problem = self.save_manual(keys)
        else:
            self.prices_typed = True  # the kept prices are the offline ones, not the book's
        self.restart(keys)
        return problem

    def restart(self, keys: Sequence[PriceKey]) -> None:
        """New feeds for these price keys (a book with new symbols)."""
        self.stop()
        self.feeds = list(self.feed_factory(keys, self.store)) if self.feed_factory else []
        for feed in self.feeds:
            feed.start()

    def stop(self) -> None:
        for feed in self.feeds:
            feed.stop()


def manual_store(portfolio: Portfolio) -> PriceStore:
    """A store holding the portfolio's prices as manual prices."""
    store = PriceStore()
    for key, mark in portfolio.price_map().items():
        store.set_manual(key, mark)
    return store
