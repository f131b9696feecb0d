from __future__ import annotations

import asyncio
import io
import threading
import wave

import pytest

from central.console.auth import (
    LoginThrottle,
    SessionSigner,
    hash_password,
    verify_password,
)
from central.console.sound import alert_wav
from central.events_bus import Change, EventBus


def test_password_round_trip_and_salt() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first != second  # salted
    assert first.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse battery", first)
    assert not verify_password("correct horse batterY", first)


@pytest.mark.parametrize(
    "stored", ["", "scrypt$1$2", "pbkdf2$1$2$3$abc$def", "scrypt$x$8$1$abc$def"]
)
def test_malformed_hashes_never_verify(stored: str) -> None:
    assert not verify_password("anything at all", stored)


def test_short_passwords_are_refused() -> None:
    with pytest.raises(ValueError, match="10 characters"):
        hash_password("short")


def test_session_tokens() -> None:
    signer = SessionSigner("s" * 20, max_age_s=100)
    token = signer.issue(7, "alice", now_s=1000)
    claims = signer.verify(token, now_s=1099)
    assert claims is not None
    assert (claims.operator_id, claims.username) == (7, "alice")
    assert signer.verify(token, now_s=1101) is None  # expired
    payload, mac = token.split(".")
    assert signer.verify(payload + "x." + mac, now_s=1000) is None  # tampered claims
    assert signer.verify(token + "x", now_s=1000) is None  # tampered signature
    assert signer.verify("no-dot-at-all", now_s=1000) is None
    assert SessionSigner("t" * 20, 100).verify(token, now_s=1000) is None  # other secret


def test_csrf_token_is_bound_to_the_session() -> None:
    signer = SessionSigner("s" * 20, max_age_s=100)
    one, two = signer.issue(1, "a", now_s=0), signer.issue(2, "b", now_s=0)
    assert signer.csrf_valid(one, signer.csrf_token(one))
    assert not signer.csrf_valid(two, signer.csrf_token(one))


def test_login_throttle() -> None:
    throttle = LoginThrottle(max_failures=3, window_s=60)
    for t in (0, 1, 2):
        assert throttle.allowed("bob", now_s=t)
        throttle.failed("bob", now_s=t)
    assert not throttle.allowed("bob", now_s=3)
    assert throttle.allowed("carol", now_s=3)  # per name
    assert throttle.allowed("bob", now_s=62.5)  # failures age out
    throttle.failed("bob", now_s=63)
    throttle.succeeded("bob")
    assert throttle.allowed("bob", now_s=64)
    assert throttle.refused == 1


def test_alert_sound_is_a_short_wav() -> None:
    with wave.open(io.BytesIO(alert_wav())) as sound:
        assert (sound.getnchannels(), sound.getsampwidth()) == (1, 2)
        assert sound.getnframes() / sound.getframerate() == pytest.approx(0.5)


def test_bus_delivers_from_other_threads_and_closes() -> None:
    bus = EventBus()

    async def listen() -> list[Change | None]:
        received: list[Change | None] = []
        subscription = bus.subscribe(heartbeat_s=5.0)
        ready = asyncio.ensure_future(subscription.__anext__())
        await asyncio.sleep(0.05)  # the subscriber is registered once the generator started
        threading.Thread(target=bus.publish, args=(Change("incident", "1", "created"),)).start()
        received.append(await ready)
        bus.publish(Change("camera", "site/cam"))
        bus.close()
        received.extend([item async for item in subscription])
        return received

    assert asyncio.run(listen()) == [
        Change("incident", "1", "created"),
        Change("camera", "site/cam"),
    ]
    assert bus.subscriber_count == 0


def test_bus_heartbeat_and_slow_subscriber() -> None:
    bus = EventBus()

    async def scenario() -> tuple[Change | None, int]:
        subscription = bus.subscribe(heartbeat_s=0.05)
        first = await subscription.__anext__()  # nothing published: a keep-alive
        for index in range(300):  # more than the queue holds (256): the oldest are dropped
            bus.publish(Change("incident", str(index)))
        await asyncio.sleep(0.05)
        change = await subscription.__anext__()
        await subscription.aclose()
        return first, int(change.key) if change else -1

    keep_alive, oldest_kept = asyncio.run(scenario())
    assert keep_alive is None
    assert oldest_kept == 300 - 256


def test_forwarders_get_the_changes_made_here_only_and_cannot_break_publishing() -> None:
    bus = EventBus()
    forwarded: list[Change] = []

    def broken(change: Change) -> None:
        raise RuntimeError("the relay is down")

    bus.add_forwarder(broken)
    bus.add_forwarder(forwarded.append)
    bus.publish(Change("incident", "7", "created"))
    bus.publish(Change("incident", "8", "created", origin="central-b"))  # relayed to us
    assert forwarded == [Change("incident", "7", "created")]
    assert bus.published == 2
