"""What is fitted on the whole base and read by every per-person computation: RFM
boundaries, the CLV model and CLV tier boundaries, kept in the ``models`` collection."""

from __future__ import annotations

from cdp.metrics.fitting import CLV_MODEL
from cdp.metrics.rfm import Boundaries
from cdp.metrics.summary import BaseModels, ClvTiers
from cdp.store import Stores

RFM_MODEL = "rfm"
CLV_TIERS_MODEL = "clv_tiers"


async def load_base_models(stores: Stores) -> BaseModels:
    rfm = await stores.models.get(RFM_MODEL)
    clv = await stores.models.get(CLV_MODEL)
    tiers = await stores.models.get(CLV_TIERS_MODEL)
    return BaseModels(
        rfm=Boundaries(tuple(rfm["recency_days"]), tuple(rfm["frequency"]), tuple(rfm["monetary"]))
        if rfm
        else None,
        clv=clv,
        clv_tiers=ClvTiers(tiers["high"], tiers["medium"]) if tiers else None,
    )
