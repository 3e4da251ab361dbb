"""Service settings, read from ``CDP_*`` environment variables (or a ``.env`` file).

Nothing reads settings at import time: :func:`cdp.app.create_app` receives a
:class:`Settings` object, so tests and tools build the service with the values they need.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cdp.linking.identity_rules import RuleSetting, apply_settings
from cdp.offers.policy import OfferPolicy
from cdp.profile.refresher import RefreshPolicy
from cdp.store.embedded import Engine
from identity import IdentityRules


@dataclass(frozen=True, slots=True)
class GraphQLLimits:
    """What one GraphQL document may ask for."""

    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5000
    max_cost: int = 100_000
    introspection: bool = True


class Settings(BaseSettings):
    """Every knob of the service; the README's configuration table documents each one."""

    model_config = SettingsConfigDict(env_prefix="CDP_", env_file=".env", extra="ignore")

    mongodb_uri: str | None = Field(
        default=None,
        description="MongoDB connection string; unset starts the embedded server.",
    )
    db_name: str = Field(default="cdp", description="Database that holds the collections.")
    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the HTTP server listens on.")
    access_log: bool = Field(
        default=True,
        description="Log one line per HTTP request (uvicorn's access log). Off saves about "
        "a tenth of a small request's CPU, but measured a worse p95 for fifty concurrent "
        "writers (docs/DECISIONS.md), so it stays on unless turned off.",
    )
    data_dir: Path = Field(
        default=Path(".cdp-data"), description="Where the embedded server keeps its data."
    )
    default_phone_region: str = Field(
        default="US",
        description="Region (ISO 3166 alpha-2) for phone numbers written without a country code.",
    )
    demo: bool = Field(
        default=False,
        description="Load demo customers on the first start of an empty database (make run "
        "sets it; CDP_DEMO=0 make run starts empty).",
    )
    demo_persons: int = Field(
        default=1000, ge=1, le=100_000, description="How many demo customers CDP_DEMO loads."
    )
    max_batch_size: int = Field(default=1000, ge=1, description="Most events one track call takes.")
    max_properties_bytes: int = Field(
        default=64 * 1024, ge=1, description="Largest JSON size of one event's properties."
    )
    embedded_engine: Engine = Field(
        default=Engine.RUST,
        description="Which embedded server runs: rust (fast, the default) or python (the "
        "reference server, for a platform where the Rust binary does not run).",
    )
    embedded_start_timeout: float = Field(
        default=30.0, gt=0, description="Seconds to wait for the embedded server to answer."
    )
    bootstrap_admin_key: str | None = Field(
        default=None, description="When set, this key is an admin key (first set-up, tests)."
    )
    rate_limit_per_minute: int = Field(default=1200, ge=1, description="Requests per key.")
    rate_limit_burst: int = Field(default=200, ge=1, description="Requests a key may burst.")
    auth_failures_per_minute: int = Field(
        default=30, ge=1, description="Requests with a missing or unknown key per client address."
    )
    max_body_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="Largest GraphQL request body."
    )
    max_query_depth: int = Field(default=12, ge=2, description="Deepest GraphQL selection.")
    max_aliases: int = Field(default=30, ge=1, description="Most aliases in one request.")
    max_tokens: int = Field(default=5000, ge=100, description="Most tokens in one document.")
    max_query_cost: int = Field(
        default=100_000, ge=100, description="Most fields one document may resolve at worst."
    )
    introspection: bool = Field(default=True, description="Whether the schema can be queried.")
    offer_min_support_count: int = Field(
        default=20, ge=1, description="Baskets a co-purchase rule needs, at least."
    )
    offer_min_confidence: float = Field(
        default=0.1, gt=0, le=1, description="Confidence a co-purchase rule needs, at least."
    )
    offer_exploration: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Share of offer answers drawn by Thompson sampling instead of the top "
        "of the ranking (each shown offer carries its probability of being shown).",
    )
    offer_exploration_seed: int | None = Field(
        default=None, description="Seed for repeatable exploration (tests, demos)."
    )
    offer_decline_days: int = Field(
        default=30, ge=0, description="Days a declined offer is not shown to that person."
    )
    offer_low_stock: int = Field(
        default=5, ge=0, description="Stock below which a wishlist item triggers an alert."
    )
    offer_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How often an instance checks whether another one changed products, "
        "rules or offers (its own changes are seen at once).",
    )
    gc_young_threshold: int = Field(
        default=50_000,
        ge=0,
        description="New objects between two collections of Python's youngest garbage "
        "generation in `cdp serve` and the commands that work on the database directly (0: "
        "Python's default of 700; see cdp/collector.py).",
    )
    shared_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How long an instance reuses the identity rules, segment definitions "
        "and base models it read (its own changes are seen at once).",
    )
    offer_stats_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How long response counts read for offer ranking are reused.",
    )
    refresh_inline_persons: int = Field(
        default=20,
        ge=0,
        description="A track call touching at most this many persons refreshes their "
        "metrics and segments before it answers; a bigger batch leaves it to the "
        "background refresher, a moment later.",
    )
    refresh_stale_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Persons pending longer than this are refreshed by the sweep (after a "
        "crash, or from an instance that stopped).",
    )
    refresh_lag_seconds: float = Field(
        default=3.0,
        gt=0,
        description="While bulk batches keep arriving, their persons are refreshed at "
        "most this long after the first was queued (each once for all the batches in "
        "between); when they stop, half a second after the last. Below "
        "CDP_REFRESH_STALE_SECONDS.",
    )
    stitch_lock: Literal["auto", "local", "database"] = Field(
        default="auto",
        description="How stitching is kept to one batch at a time: 'local' (a lock in "
        "this process: one instance serves the database), 'database' (a lease document: "
        "several instances share it; two synced writes per batch), 'auto' (local on the "
        "embedded database, database when CDP_MONGODB_URI is given).",
    )

    def stitching_shared(self, engine: str) -> bool:
        """Whether other instances may stitch into the same database (``engine`` is the
        one running: "external" when CDP_MONGODB_URI named it)."""
        if self.stitch_lock == "auto":
            return engine == "external"
        return self.stitch_lock == "database"

    identity_rules: dict[str, RuleSetting] = Field(
        default_factory=dict,
        description="Per-type rule changes as JSON, for example "
        '{"email": {"limit": 3, "strength": "STRONG"}}.',
    )
    review_merges_after_events: int = Field(
        default=3,
        ge=0,
        description="An automatic merge of two persons that each have this many events waits "
        "for an agent unless a trusted identifier proves it; 0 never holds one.",
    )

    def offer_policy(self) -> OfferPolicy:
        return OfferPolicy(
            min_support_count=self.offer_min_support_count,
            min_confidence=self.offer_min_confidence,
            exploration=self.offer_exploration,
            exploration_seed=self.offer_exploration_seed,
            decline_days=self.offer_decline_days,
            low_stock=self.offer_low_stock,
        )

    def refresh_policy(self) -> RefreshPolicy:
        return RefreshPolicy(
            inline_persons=self.refresh_inline_persons,
            lag_at_most_seconds=self.refresh_lag_seconds,
            stale_after_seconds=self.refresh_stale_seconds,
        )

    def graphql_limits(self) -> GraphQLLimits:
        return GraphQLLimits(
            max_depth=self.max_query_depth,
            max_aliases=self.max_aliases,
            max_tokens=self.max_tokens,
            max_cost=self.max_query_cost,
            introspection=self.introspection,
        )

    def identity(self) -> IdentityRules:
        """The default identity rules with this deployment's changes."""
        base = IdentityRules(review_after_events=self.review_merges_after_events)
        return apply_settings(base, self.identity_rules)

    @model_validator(mode="after")
    def _lag_before_the_sweep(self) -> Settings:
        # the sweep would refresh the persons the refresher is still gathering
        if self.refresh_lag_seconds >= self.refresh_stale_seconds:
            raise ValueError(
                f"CDP_REFRESH_LAG_SECONDS ({self.refresh_lag_seconds:g}) must be below "
                f"CDP_REFRESH_STALE_SECONDS ({self.refresh_stale_seconds:g})"
            )
        return self

    @field_validator("default_phone_region")
    @classmethod
    def _region_upper(cls, value: str) -> str:
        region = value.strip().upper()
        if len(region) != 2 or not region.isalpha():
            raise ValueError("must be a two-letter region code such as US, GB or DE")
        return region
