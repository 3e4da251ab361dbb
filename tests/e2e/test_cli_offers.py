"""`cdp offers evaluate` as a marketer runs it: on the answers the service logged and the
responses tied to them, what other exploration shares would have earned."""

import asyncio
import dataclasses
import json
import subprocess
from pathlib import Path

from pymongo.asynchronous.database import AsyncDatabase

from cdp.deps import Deps
from cdp.offers.policy import OfferPolicy
from cdp.store.database import Document
from tests.e2e.server import CDP, environment
from tests.resolvers.graphql import execute, operation
from tests.resolvers.test_offers_api import lea_after_baskets, offers_for


async def test_the_evaluation_reads_what_was_shown_and_accepted(
    deps: Deps, db: AsyncDatabase[Document], mongodb_uri: str
) -> None:
    exploring = dataclasses.replace(deps, offers=OfferPolicy(exploration=0.5, min_support_count=5))
    lea = await lea_after_baskets(exploring)
    for day in range(3):  # three visits; she takes the first offer each time
        offered = await offers_for(exploring, lea)
        for rank, offer in enumerate(offered):
            for response in ["SHOWN", *(["ACCEPTED"] if rank == 0 else [])]:
                _, errors = await execute(
                    exploring,
                    operation("RecordOfferResponse"),
                    personId=lea,
                    offerId=offer["offer"]["id"],
                    response=response,
                    decision=offer["decision"],
                )
                assert errors == [], (day, errors)
    done = await asyncio.to_thread(
        subprocess.run,
        [str(CDP), "offers", "evaluate", "--exploration", "0", "1"],
        env=environment({"CDP_MONGODB_URI": mongodb_uri, "CDP_DB_NAME": db.name}),
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0].startswith(
        "3 answers shown in the last 90 days; accepted per answer as logged: 1.0000"
    )
    assert [line.split("|")[0].strip() for line in lines[2:]] == ["0.00", "1.00"]


async def test_a_share_outside_0_and_1_is_refused_in_words() -> None:
    done = await asyncio.to_thread(
        subprocess.run,
        [str(CDP), "offers", "evaluate", "--exploration", "1.5"],
        env=environment({}),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "1.5 is not a share between 0 and 1" in done.stderr


def test_a_basket_file_is_back_tested_without_a_database(tmp_path: Path) -> None:
    """Tea buyers take biscuits, campers take a stove with their tent: rules find the
    hidden item where the most popular products (milk, bread) do not."""
    lines = []
    for n in range(200):
        lines.append("whole milk,bread" if n % 3 else "whole milk")
        lines.append("tea,biscuits" if n % 2 else "tent,mat,stove")
    lines += ["tea,biscuits", "tent,mat,stove"] * 30
    baskets = tmp_path / "groceries.csv"
    baskets.write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [str(CDP), "offers", "backtest", "--baskets", str(baskets), "--min-count", "5"],
        env=environment({}),
        capture_output=True,
        text=True,
        check=True,
    )
    rows = {line.split("|")[0].strip(): line for line in done.stdout.splitlines()[2:]}
    assert rows["co-purchase"].split("|")[1].strip() == "100.0%"  # every hidden item hit
    assert rows["popularity"].split("|")[1].strip() != "100.0%"


def test_a_missing_basket_file_is_an_error_in_words(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(CDP), "offers", "backtest", "--baskets", str(tmp_path / "nope.csv")],
        env=environment({}),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "cannot read" in done.stderr
    assert "Traceback" not in done.stderr


async def test_a_campaign_writes_each_consenting_member_once_and_can_record_it(
    deps: Deps, db: AsyncDatabase[Document], mongodb_uri: str, tmp_path: Path
) -> None:
    """Thirty-one shoppers bought this month; only Lea agreed to email marketing, so the
    email campaign to 'Purchased in the last 30 days' has one line: hers."""
    quiet = dataclasses.replace(deps, offers=OfferPolicy(exploration=0.0, min_support_count=5))
    lea = await lea_after_baskets(quiet)
    out = tmp_path / "campaign.jsonl"
    done = await asyncio.to_thread(
        subprocess.run,
        [
            str(CDP),
            "offers",
            "campaign",
            "--segment",
            "purchased_last_30d",
            "--channel",
            "email",
            "--out",
            str(out),
            "--record",
        ],
        env=environment(
            # no exploration: the top of the ranking, shown for certain
            {"CDP_MONGODB_URI": mongodb_uri, "CDP_DB_NAME": db.name, "CDP_OFFER_EXPLORATION": "0"}
        ),
        capture_output=True,
        text=True,
        check=True,
    )
    assert "members of purchased_last_30d, 1 with an offer" in done.stdout
    [line] = [json.loads(text) for text in out.read_text().splitlines()]
    assert (line["personId"], line["offerId"], line["channel"]) == (lea, "product:STOVE-1", "EMAIL")
    [shown] = await db["offer_responses"].find({"response": "SHOWN"}).to_list()
    assert (shown["person_id"], shown["offer_id"], shown["propensity"]) == (
        lea,
        "product:STOVE-1",
        1.0,
    )
    profile = await db["persons"].find_one({"_id": lea})
    assert profile is not None
    assert [h["response"] for h in profile["offer_history"]] == ["SHOWN"]  # caps count it


async def test_a_campaign_to_an_unknown_segment_is_refused_in_words(
    db: AsyncDatabase[Document], mongodb_uri: str, tmp_path: Path
) -> None:
    done = await asyncio.to_thread(
        subprocess.run,
        [str(CDP), "offers", "campaign", "--segment", "seg_nope", "--out", str(tmp_path / "x")],
        env=environment({"CDP_MONGODB_URI": mongodb_uri, "CDP_DB_NAME": db.name}),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "no segment has the id seg_nope" in done.stderr
