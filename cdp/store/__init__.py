"""Storage: the only package that imports pymongo.

Each collection has one small store class; :class:`Stores` bundles them for the flows.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase

from cdp.store.catalogue import CachedCatalogue, CatalogueVersion
from cdp.store.config import ConfigStore
from cdp.store.conflicts import ConflictStore
from cdp.store.consents import ConsentStore
from cdp.store.database import Document
from cdp.store.erasures import ErasureStore
from cdp.store.events import EventStore
from cdp.store.identifiers import Holdings, IdentifierStore, Owned, Sighting
from cdp.store.keys import KeyStore
from cdp.store.links import LinkProof, LinkStore
from cdp.store.locks import DatabaseLock, LocalLock, StitchLock
from cdp.store.memberships import MembershipStore
from cdp.store.merges import MergeStore
from cdp.store.models import ModelStore
from cdp.store.offers import OfferStore
from cdp.store.ordered import OrderedWrites
from cdp.store.persons import PersonStore
from cdp.store.products import ProductStore
from cdp.store.profile_reads import JOIN_AT_MOST, OwnerRead, PersonRead, ProfileReads
from cdp.store.segments import SegmentStore


@dataclass(frozen=True, slots=True)
class Stores:
    persons: PersonStore
    identifiers: IdentifierStore
    events: EventStore
    links: LinkStore
    merges: MergeStore
    conflicts: ConflictStore
    config: ConfigStore
    keys: KeyStore
    consents: ConsentStore
    erasures: ErasureStore
    models: ModelStore
    segments: SegmentStore
    memberships: MembershipStore
    products: ProductStore
    offers: OfferStore
    catalogue: CachedCatalogue
    stitching: StitchLock
    profile_reads: ProfileReads  # an identifier's owner and its screen's facts at once
    ordered: OrderedWrites  # several collections' writes in one command, in order
    database: AsyncDatabase[Document]  # for what spans collections (cdp doctor's inventory)

    @classmethod
    def on(
        cls,
        db: AsyncDatabase[Document],
        *,
        catalogue_check_seconds: float = 1.0,
        stats_seconds: float = 30.0,
        remember_seconds: float = 1.0,
        shared: bool = False,
    ) -> Stores:
        """The stores of one database; the catalogue cache freshness is explained in
        :mod:`cdp.store.catalogue`, the other shared values' in
        :mod:`cdp.store.remembered`. ``shared``: other instances may write to the same
        database (an external MongoDB), so stitching is serialised through it
        (:mod:`cdp.store.locks`)."""
        version = CatalogueVersion(db, catalogue_check_seconds)
        catalogue = CachedCatalogue(db, version, stats_seconds)
        return cls(
            persons=PersonStore(db),
            identifiers=IdentifierStore(db),
            events=EventStore(db),
            links=LinkStore(db),
            merges=MergeStore(db),
            conflicts=ConflictStore(db),
            config=ConfigStore(db, remember_seconds),
            keys=KeyStore(db),
            consents=ConsentStore(db),
            erasures=ErasureStore(db),
            models=ModelStore(db, remember_seconds),
            segments=SegmentStore(db, remember_seconds),
            memberships=MembershipStore(db),
            products=ProductStore(db, version),
            offers=OfferStore(db, version, catalogue),
            catalogue=catalogue,
            stitching=DatabaseLock(db) if shared else LocalLock(),
            profile_reads=ProfileReads(db),
            ordered=OrderedWrites(db),
            database=db,
        )


__all__ = [
    "JOIN_AT_MOST",
    "Holdings",
    "LinkProof",
    "Owned",
    "OwnerRead",
    "PersonRead",
    "Sighting",
    "Stores",
]
