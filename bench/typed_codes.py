"""What an attacker must spend to delay an honest person typing their badge's code.

Against real ``arcade serve`` processes on loopback, with people and badges as the tests have them
(``tests/people.py``, ``tests/test_device_flow.py``):

1. a logged-in person types the code of a fresh login, alone: their latency, the baseline;
2. the same while attackers on several loopback addresses, each with its own accounts, type wrong
   codes as fast as the server answers: the person's successes and latency, side by side;
3. a server whose everyone-budget is scaled down, attacked account by account and address by
   address until the person is refused: the accounts, addresses and wrong codes that took, next to
   what the cost model ``ceil(G / per_account)``, ``ceil(G / per_address)``, ``G`` predicts;
4. that model at the default budgets, with the sign-up and wrong-code rates measured in 2, next to
   the design before (five wrong codes from anyone locked typed entry for everyone).

    .venv/bin/python bench/typed_codes.py [--addresses 4] [--seconds 10] [--samples 50]

Exits 1 if the honest person was ever refused in 2, or the scaled run disagrees with the model.
"""

import argparse
import math
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[0] = str(HERE.parent)  # `python bench/typed_codes.py` imports the project, not bench/ alone

from arcade.plugins.idp_builtin.provider import BuiltinSettings

from tests.badge_client import Badge
from tests.conftest import Servers
from tests.people import Person, csrf_token

WRONG = "BBBB-BBBB-BBBB"
HONEST_ADDRESS = "127.0.0.250"
UNLIMITED_LOGINS = "[identity.builtin.limits]\ndevice_authorizations_per_minute = 1000000\n"
"""The honest person's badge asks for many logins; that limit is not what is measured."""
BEFORE = {"wrong codes": 5, "accounts": 0, "addresses": 1}
"""The design before: five wrong codes from anyone, anywhere, locked every person's typed entry."""


class Attacker:
    """One loopback address typing wrong codes with its accounts in turn, as fast as it is answered."""

    def __init__(self, url: str, address: str, accounts: int, name: str):
        self.people = [Person(url, f"{name}{number}", address=address) for number in range(accounts)]
        self.tokens: list[str] = []
        self.answers: dict[int, int] = {}
        self.counted_until = 0.0
        """When the server last counted one of its wrong codes (a 400, not a 429)."""

    def sign_up(self) -> None:
        self.tokens = [csrf_token(person.logged_in(person.browser.get("/device"))) for person in self.people]

    def attack(self, stop: threading.Event) -> None:
        while not stop.is_set():
            for person, token in zip(self.people, self.tokens, strict=True):
                status = person.browser.post("/device", data={"_csrf_token": token, "code": WRONG}).status_code
                self.answers[status] = self.answers.get(status, 0) + 1
                if status == 400:
                    self.counted_until = time.monotonic()
                if stop.is_set():
                    return


def honest_entries(url: str, person: Person, samples: int = 0, seconds: float = 0) -> list:
    """Type the codes of fresh logins, ``samples`` of them or for ``seconds``; (status, seconds from
    Continue to the confirm page) each."""
    badge = Badge(url, address=HONEST_ADDRESS)
    results = []
    deadline = time.monotonic() + seconds
    while len(results) < samples or time.monotonic() < deadline:
        grant = badge.start()
        page = person.browser.get("/device")
        started = time.monotonic()
        answer = person.submit(page, "enter-code", code=grant["user_code"])
        results.append((answer.status_code, time.monotonic() - started))
    return results


def attack_while_typing(servers: Servers, args) -> dict:
    """Run 2: the default budgets, attackers on ``args.addresses`` addresses, and the honest person."""
    server = servers(UNLIMITED_LOGINS)
    limits = BuiltinSettings().limits
    honest = Person(server.url, "ada", address=HONEST_ADDRESS)
    honest.logged_in(honest.browser.get("/device"))
    alone = honest_entries(server.url, honest, args.samples)

    per_address = math.ceil(limits.wrong_user_codes_per_address / limits.wrong_user_codes_per_account)
    attackers = [
        Attacker(server.url, f"127.0.1.{number + 1}", per_address, f"mallory{number}-")
        for number in range(args.addresses)
    ]
    started = time.monotonic()
    signing_up = [threading.Thread(target=attacker.sign_up) for attacker in attackers]
    for thread in signing_up:
        thread.start()
    for thread in signing_up:
        thread.join()
    sign_up_seconds = time.monotonic() - started

    stop = threading.Event()
    attacking = [threading.Thread(target=attacker.attack, args=(stop,)) for attacker in attackers]
    started = time.monotonic()
    for thread in attacking:
        thread.start()
    under_attack = honest_entries(server.url, honest, seconds=args.seconds)
    stop.set()
    for thread in attacking:
        thread.join()
    attack_seconds = time.monotonic() - started
    counted = sum(attacker.answers.get(400, 0) for attacker in attackers)
    counting_seconds = max(attacker.counted_until for attacker in attackers) - started
    return {
        "alone": alone,
        "under attack": under_attack,
        "accounts": sum(len(attacker.people) for attacker in attackers),
        "addresses": len(attackers),
        "sign-up rate": sum(len(attacker.people) for attacker in attackers) / sign_up_seconds,
        "attack answers": {
            status: sum(attacker.answers.get(status, 0) for attacker in attackers) for status in (400, 429)
        },
        "attack seconds": attack_seconds,
        "counted": counted,
        "counted rate": counted / counting_seconds,
    }


def lock_on_a_scaled_server(servers: Servers, everyone: int, per_account: int, per_address: int) -> dict:
    """Run 3: spend everyone's budget, one account and one address after another, until the honest
    person's right code is refused."""
    limits = (
        f"wrong_user_codes = {everyone}\nwrong_user_codes_per_account = {per_account}\n"
        f"wrong_user_codes_per_address = {per_address}\n"
    )
    server = servers(f"{UNLIMITED_LOGINS}{limits}")
    honest = Person(server.url, "ada", address=HONEST_ADDRESS)
    honest.logged_in(honest.browser.get("/device"))
    badge = Badge(server.url, address=HONEST_ADDRESS)
    used = {"accounts": 0, "addresses": 0, "wrong codes": 0}
    started = time.monotonic()
    while True:
        grant = badge.start()
        if honest.submit(honest.browser.get("/device"), "enter-code", code=grant["user_code"]).status_code == 429:
            break
        used["addresses"] += 1
        address = f"127.0.2.{used['addresses']}"
        attacker = Attacker(server.url, address, math.ceil(per_address / per_account), f"eve{used['addresses']}-")
        attacker.sign_up()
        for person, token in zip(attacker.people, attacker.tokens, strict=True):
            status = None
            while status != 429:
                status = person.browser.post("/device", data={"_csrf_token": token, "code": WRONG}).status_code
                used["wrong codes"] += status == 400
            used["accounts"] += 1
    used["seconds"] = time.monotonic() - started
    return used


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def report(run: dict, scaled: dict, model: dict, settings: BuiltinSettings) -> bool:
    limits = settings.limits
    alone = [seconds for status, seconds in run["alone"]]
    attacked = [seconds for status, seconds in run["under attack"]]
    refused = sum(status != 200 for status, _ in run["under attack"])
    print("\n1-2. An honest, logged-in person types their code (Continue → confirm page), default budgets")
    print(f"{'':28} {'alone':>10} {'under attack':>14} {'ratio':>7}")
    for name, share in (("p50", 0.5), ("p99", 0.99)):
        base, loaded = percentile(alone, share) * 1000, percentile(attacked, share) * 1000
        print(f"{'latency ' + name + ' (ms)':28} {base:10.1f} {loaded:14.1f} {loaded / base:7.2f}")
    print(f"{'codes typed':28} {len(alone):10} {len(attacked):14}")
    print(f"{'refused':28} {sum(status != 200 for status, _ in run['alone']):10} {refused:14}")
    answers = run["attack answers"]
    print(
        f"attackers: {run['accounts']} accounts on {run['addresses']} addresses, "
        f"{answers[400] + answers[429]:,} wrong codes in {run['attack seconds']:.1f} s: "
        f"{answers[400]:,} counted (400), {answers[429]:,} refused unread (429)"
    )
    print(
        f"measured: {run['sign-up rate']:.1f} sign-ups/s (scrypt), "
        f"{run['counted rate']:.0f} counted wrong codes/s while budgets lasted ({run['counted']} of them)"
    )

    print("\n3. Everyone's budget scaled down, spent until the honest person is refused")
    print(f"{'':14} {'model':>8} {'measured':>9}")
    agree = True
    for key in ("wrong codes", "accounts", "addresses"):
        agree &= model[key] == scaled[key]
        print(f"{key:14} {model[key]:8,} {scaled[key]:9,}")
    print(f"({scaled['seconds']:.1f} s)")

    everyone = limits.wrong_user_codes
    accounts = math.ceil(everyone / limits.wrong_user_codes_per_account)
    addresses = math.ceil(everyone / limits.wrong_user_codes_per_address)
    sustained = everyone / settings.device_code_ttl
    print("\n4. Locking typed entry for everyone: the design before, and now (default budgets)")
    print(f"{'':34} {'before':>10} {'now':>14} {'ratio':>9}")
    rows = [
        ("wrong codes per code lifetime", BEFORE["wrong codes"], everyone),
        ("accounts (at once)", BEFORE["accounts"], accounts),
        ("addresses (at once)", BEFORE["addresses"], addresses),
    ]
    for name, before, now in rows:
        ratio = f"{now / before:9,.0f}" if before else f"{'-':>9}"
        print(f"{name:34} {before:10,} {now:14,} {ratio}")
    print(
        f"{'wrong codes/s to keep it locked':34} {BEFORE['wrong codes'] / settings.device_code_ttl:10.3f} "
        f"{sustained:14.1f} {sustained / (BEFORE['wrong codes'] / settings.device_code_ttl):9,.0f}"
    )
    print(
        f"making {accounts:,} accounts: {accounts / run['sign-up rate'] / 60:,.0f} min of this server's hashing, "
        f"or {accounts / limits.sign_ups_per_address:,.0f} address-hours under the sign-up limit"
    )
    reachable = run["counted rate"] >= sustained
    print(
        f"this server counted {run['counted rate']:.0f} wrong codes/s at most: "
        + ("enough" if reachable else "too few")
        + f" to keep {everyone:,} counted in every {settings.device_code_ttl} s"
    )
    return refused == 0 and agree


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=4, help="attacker addresses in run 2 (default 4)")
    parser.add_argument("--seconds", type=float, default=10, help="attack length in run 2 (default 10)")
    parser.add_argument("--samples", type=int, default=50, help="the honest person's codes alone (default 50)")
    args = parser.parse_args(argv)
    scaled_budgets = {"everyone": 60, "per_account": 5, "per_address": 20}
    model = {
        "wrong codes": scaled_budgets["everyone"],
        "accounts": math.ceil(scaled_budgets["everyone"] / scaled_budgets["per_account"]),
        "addresses": math.ceil(scaled_budgets["everyone"] / scaled_budgets["per_address"]),
    }
    with tempfile.TemporaryDirectory() as base:
        servers = Servers(Path(base), games=Path(base) / "no-games")
        try:
            run = attack_while_typing(servers, args)
            scaled = lock_on_a_scaled_server(servers, **scaled_budgets)
        finally:
            servers.stop_all()
    sys.exit(0 if report(run, scaled, model, BuiltinSettings()) else 1)


if __name__ == "__main__":
    main()
