#!/usr/bin/python3
# Over 700 lines on purpose: one self-contained file, so an outside auditor can read and run it alone.
"""An independent verifier for HeatCrew evidence, written from docs/evidence.md alone.

    verify.py vectors DIR                 check every vector in DIR/vectors.json and every case
                                          in DIR/exports/index.json; exit 0 if all match
    verify.py export [--strict] [--office-key HEX] FILE [FILE ...]
                                          verify export files together; print faults and
                                          unproven items; exit 1 on any fault (--strict: also
                                          on anything unproven)

Needs Python 3.11 and the `cryptography` package (Debian: python3-cryptography) for Ed25519.
Each function names the section of docs/evidence.md it implements. Where the page leaves a
choice open, the choice made here is marked "ASSUMPTION".
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import sys
import uuid

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
except ImportError:  # pragma: no cover - reported to the user
    sys.exit("verify.py needs the `cryptography` package (Debian: apt-get install python3-cryptography)")

ZERO32 = bytes(32)
MAX_EXACT = 2**53  # "Restriction": every number's magnitude is below 2^53


class Malformed(Exception):
    """The input breaks the format; for an event this is the fault `malformed`."""


# ---------------------------------------------------------------- JSON with exact numbers


class Num:
    """A JSON number kept as its literal text, so that integers and floats stay apart and
    nothing is rounded before the format's own rule says how."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def is_integer_literal(self):  # "written without a fraction or exponent on the wire"
        return not any(c in self.text for c in ".eE")

    def as_double(self):  # "parse the number as an IEEE-754 double (correctly rounded)"
        x = float(self.text)  # Python's float() rounds correctly
        if x in (float("inf"), float("-inf")):
            raise Malformed(f"number {self.text} is beyond the double range")
        return x

    def __eq__(self, other):
        return isinstance(other, Num) and self.text == other.text

    def __hash__(self):
        return hash(self.text)

    def __repr__(self):
        return self.text


def _no_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:  # ASSUMPTION: the page is silent; a repeated name is refused (malformed)
            raise Malformed(f"duplicate member {k!r}")
        obj[k] = v
    return obj


def _no_constant(name):
    raise Malformed(f"{name} is not JSON")


def parse_json(text):
    """Strict JSON: numbers as Num, no NaN/Infinity, no duplicate member names."""
    try:
        return json.loads(text, parse_int=Num, parse_float=Num, parse_constant=_no_constant,
                          object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as err:
        raise Malformed(f"not JSON: {err}") from None


def to_plain(value):
    """Num -> int/float, for comparing parsed test data with Python values."""
    if isinstance(value, Num):
        return int(value.text) if value.is_integer_literal() else float(value.text)
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------- field readers ("Notation")


def hexbytes(value, n, what):
    """Lowercase hex of exactly n bytes ("Upper-case hex is refused")."""
    if not isinstance(value, str) or not re.fullmatch(f"[0-9a-f]{{{2 * n}}}", value):
        raise Malformed(f"{what} is not {n} bytes of lowercase hex")
    return bytes.fromhex(value)


def uuid_bytes(value, what):
    """A UUID's 16 bytes in the order of its text. ASSUMPTION: only the lowercase
    8-4-4-4-12 form is accepted (the page does not say which spellings are allowed)."""
    if not isinstance(value, str) or not re.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", value):
        raise Malformed(f"{what} is not a UUID in lowercase 8-4-4-4-12 form")
    return bytes.fromhex(value.replace("-", ""))


def integer(value, what, lo=0, hi=2**64 - 1):
    """A JSON integer literal (ASSUMPTION: `1.0` or `1e0` is refused where an integer is due)."""
    if not isinstance(value, Num) or not value.is_integer_literal():
        raise Malformed(f"{what} is not an integer")
    n = int(value.text)
    if not lo <= n <= hi:
        raise Malformed(f"{what} is out of range")
    return n


def u64(n):
    return n.to_bytes(8, "big")


def i64(n):
    return n.to_bytes(8, "big", signed=True)


def length_prefixed(s, what):
    try:
        b = s.encode("utf-8")
    except (UnicodeEncodeError, AttributeError):
        raise Malformed(f"{what} is not a UTF-8 string") from None
    return u64(len(b)) + b


_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})")


def millis(value, what):
    """RFC 3339 time -> i64 milliseconds since the epoch; sub-millisecond digits are dropped
    (ASSUMPTION: dropped = rounded towards the past; the page says only "never signed").
    ASSUMPTION: any RFC 3339 offset is accepted and converted, though the page says UTC."""
    m = _TIME.fullmatch(value) if isinstance(value, str) else None
    if not m:
        raise Malformed(f"{what} is not an RFC 3339 time")
    y, mo, d, h, mi, s, frac, off = m.groups()
    try:
        t = datetime.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s),
                              tzinfo=datetime.timezone.utc)
    except ValueError:
        raise Malformed(f"{what} is not a valid date and time") from None
    if off not in ("Z", "z"):
        sign = 1 if off[0] == "+" else -1
        t -= sign * datetime.timedelta(hours=int(off[1:3]), minutes=int(off[4:6]))
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    ms = (t - epoch) // datetime.timedelta(milliseconds=1) + int(((frac or "") + "000")[:3])
    if not -2**63 <= ms < 2**63:
        raise Malformed(f"{what} is out of range")
    return ms


def ed25519_ok(public_key, signature, message):
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def public_key_of(secret):
    return Ed25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)


# ---------------------------------------------------------------- canonical payloads

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def canonical_string(s):
    """Strings, both formats (format 2 rule 2)."""
    out = ['"']
    for c in s:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif c < " ":
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)  # everything else as its UTF-8 bytes (encoded at the end)
    out.append('"')
    return "".join(out)


def shortest_digits(x):
    """For a finite x > 0: the shortest digits d1..dk that read back as x (the closest if
    several) and n with x = 0.d1..dk * 10^n. Python's repr() is that shortest round trip."""
    mantissa, _, exp = repr(x).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    point = len(whole) + int(exp or 0) - (len(whole + frac) - len((whole + frac).lstrip("0")))
    return digits.rstrip("0"), point


def number_format_2(x):
    """ECMAScript Number.prototype.toString (RFC 8785 3.2.2.3), format 2 rule 4."""
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    d, n = shortest_digits(abs(x))
    k = len(d)
    if k <= n <= 21:
        body = d + "0" * (n - k)
    elif 0 < n <= 21:
        body = d[:n] + "." + d[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * -n + d
    else:
        body = d[0] + ("." + d[1:] if k > 1 else "") + "e" + ("+" if n - 1 >= 0 else "-") + str(abs(n - 1))
    return sign + body


def number_format_1(num, rendering):
    """Format 1 rules 2 and 3; rendering "A" (plain exponent) or "B" (with +)."""
    if num.is_integer_literal():
        value = int(num.text)
        # ASSUMPTION (not in the page): "-0" and integers outside [-2^63, 2^64) are not
        # "integers, up to 64 bits"; like serde_json, they are read as doubles (so -0 -> -0.0).
        if num.text.strip() != "-0" and -2**63 <= value < 2**64:
            return str(value)
    x = num.as_double()
    if x == 0:
        return "-0.0" if str(x).startswith("-") else "0.0"
    sign = "-" if x < 0 else ""
    d, n = shortest_digits(abs(x))
    e, k = n - 1, len(d)  # x = d1.d2..dk * 10^e
    if 0 <= e <= 15:
        body = d + "0" * (e + 1 - k) + ".0" if k <= e + 1 else d[:e + 1] + "." + d[e + 1:]
    elif -5 <= e <= -1:
        body = "0." + "0" * (-e - 1) + d
    else:
        exponent = ("+" if rendering == "B" and e > 0 else "") + str(e)
        body = d[0] + ("." + d[1:] if k > 1 else "") + "e" + exponent
    return sign + body


def canonical_payload(value, fmt, rendering="A"):
    """P: the canonical payload bytes of format 1 (rendering A or B) or format 2."""

    def write(v):
        if v is None:
            return "null"
        if v is True:
            return "true"
        if v is False:
            return "false"
        if isinstance(v, Num):
            if fmt == 1:
                return number_format_1(v, rendering)
            return number_format_2(v.as_double())
        if isinstance(v, str):
            return canonical_string(v)
        if isinstance(v, list):
            return "[" + ",".join(write(i) for i in v) + "]"
        if isinstance(v, dict):
            if fmt == 2:  # names as UTF-16 code units; big-endian UTF-16 bytes sort the same
                key = lambda name: name.encode("utf-16-be", "surrogatepass")  # noqa: E731
            else:  # names as UTF-8 bytes
                key = lambda name: name.encode("utf-8", "surrogatepass")  # noqa: E731
            members = sorted(v.items(), key=lambda kv: key(kv[0]))
            return "{" + ",".join(canonical_string(k) + ":" + write(x) for k, x in members) + "}"
        raise Malformed(f"unexpected JSON value {v!r}")

    try:
        return write(value).encode("utf-8")  # strict: a lone surrogate is refused
    except UnicodeEncodeError:
        raise Malformed("payload holds a lone UTF-16 surrogate") from None


# ---------------------------------------------------------------- events


def event_format(event):
    """ASSUMPTION: an explicit "format": 1 is read as format 1, like an absent field."""
    if "format" not in event:
        return 1
    fmt = integer(event["format"], "format")
    if fmt not in (1, 2):
        raise Malformed(f"unknown event format {fmt}")
    return fmt


def check_format_2_restriction(value):
    """Format 2 rule 5: every number's magnitude below 2^53. The vectors give canonical bytes
    even for an event that breaks it, so it is a check beside the encoding, not part of it.
    ASSUMPTION: judged on the parsed double (a literal just below 2^53 that rounds to 2^53
    is refused too)."""
    if isinstance(value, Num) and abs(value.as_double()) >= MAX_EXACT:
        raise Malformed(f"number {value.text} has magnitude 2^53 or more (format 2)")
    for v in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
        check_format_2_restriction(v)


def canonical_event(event, rendering="A"):
    """Canonical bytes (section "Canonical bytes")."""
    if not isinstance(event, dict):
        raise Malformed("event is not an object")
    fmt = event_format(event)
    if not isinstance(event.get("kind"), str):
        raise Malformed("kind is not a string")
    if not isinstance(event.get("payload"), dict):
        raise Malformed("payload is not an object")
    payload = canonical_payload(event["payload"], fmt, rendering)
    return (f"heatcrew.event.v{fmt}\n".encode()
            + uuid_bytes(event.get("id"), "id")
            + uuid_bytes(event.get("device_id"), "device_id")
            + u64(integer(event.get("device_seq"), "device_seq"))
            + uuid_bytes(event.get("job_id"), "job_id")
            + length_prefixed(event["kind"], "kind")
            + u64(len(payload)) + payload
            + i64(millis(event.get("recorded_at"), "recorded_at"))
            + u64(integer(event.get("elapsed_ms"), "elapsed_ms"))
            + hexbytes(event.get("prev_hash"), 32, "prev_hash"))


def check_event(event, public_key):
    """One event on its own: None if it verifies, else `malformed`, `edited` or
    `bad_signature`. Format 1 verifies under rendering A or B."""
    try:
        renderings = ["A", "B"] if event_format(event) == 1 else ["A"]
        if renderings == ["A"]:
            check_format_2_restriction(event.get("payload"))
        candidates = {hashlib.sha256(canonical_event(event, r)).digest() for r in renderings}
        claimed = hexbytes(event.get("hash"), 32, "hash")
        sig = hexbytes(event.get("sig"), 64, "sig")
    except Malformed:
        return "malformed"
    if claimed not in candidates:
        return "edited"
    if not ed25519_ok(public_key, sig, claimed):
        return "bad_signature"
    return None


# ---------------------------------------------------------------- the office's log (RFC 9162 2.1)


def leaf_hash(leaf):
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n):  # the largest power of two smaller than n (n > 1)
    return 1 << ((n - 1).bit_length() - 1)


def mth(hashes):
    """MTH over leaf hashes (2.1.1)."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = split_point(len(hashes))
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


def inclusion_path(m, hashes):
    """PATH(m, D[n]) (2.1.3.1)."""
    if len(hashes) <= 1:
        return []
    k = split_point(len(hashes))
    if m < k:
        return inclusion_path(m, hashes[:k]) + [mth(hashes[k:])]
    return inclusion_path(m - k, hashes[k:]) + [mth(hashes[:k])]


def consistency_proof(m, hashes, whole=True):
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (2.1.4.1)."""
    n = len(hashes)
    if m == n:
        return [] if whole else [mth(hashes)]
    k = split_point(n)
    if m <= k:
        return consistency_proof(m, hashes[:k], whole) + [mth(hashes[k:])]
    return consistency_proof(m - k, hashes[k:], False) + [mth(hashes[:k])]


def verify_inclusion(index, size, leaf_h, path, root):
    """2.1.3.2, step by step."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_h
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, path):
    """2.1.4.2, plus the page's rule for equal sizes (empty proof, equal roots).
    ASSUMPTION: first = 0 (the empty tree) holds with an empty proof."""
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path
    if first > second or not path:
        return False
    path = list(path)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0


# ---------------------------------------------------------------- signed messages


def leaf_bytes(device_id, seq, event_hash, accepted):
    return b"heatcrew.leaf.v1\n" + device_id + u64(seq) + event_hash + (b"\x01" if accepted else b"\x00")


def boolean(value, what):
    if not isinstance(value, bool):
        raise Malformed(f"{what} is not true or false")
    return value


def read_receipt(r):
    """A receipt object -> (fields, message, sig)."""
    if not isinstance(r, dict):
        raise Malformed("receipt is not an object")
    f = {"device_id": uuid_bytes(r.get("device_id"), "receipt device_id"),
         "device_seq": integer(r.get("device_seq"), "receipt device_seq"),
         "event_hash": hexbytes(r.get("event_hash"), 32, "receipt event_hash"),
         "accepted": boolean(r.get("accepted"), "receipt accepted"),
         "log_index": integer(r.get("log_index"), "receipt log_index"),
         "received_at": millis(r.get("received_at"), "receipt received_at")}
    message = (b"heatcrew.receipt.v1\n" + f["device_id"] + u64(f["device_seq"]) + f["event_hash"]
               + (b"\x01" if f["accepted"] else b"\x00") + u64(f["log_index"]) + i64(f["received_at"]))
    f["leaf"] = leaf_bytes(f["device_id"], f["device_seq"], f["event_hash"], f["accepted"])
    return f, message, hexbytes(r.get("sig"), 64, "receipt sig")


def read_tree_head(t):
    if not isinstance(t, dict):
        raise Malformed("tree head is not an object")
    f = {"size": integer(t.get("size"), "tree head size"),
         "root": hexbytes(t.get("root"), 32, "tree head root"),
         "timestamp": millis(t.get("timestamp"), "tree head timestamp")}
    message = b"heatcrew.tree-head.v1\n" + u64(f["size"]) + f["root"] + i64(f["timestamp"])
    return f, message, hexbytes(t.get("sig"), 64, "tree head sig")


def enrolment_message(challenge, device_id, public_key, username, head_seq, head_hash,
                      tag=b"heatcrew.enrol.v2\n"):
    return (tag + challenge + device_id + public_key
            + length_prefixed(username, "username") + u64(head_seq) + head_hash)


def sign_out_message(challenge, device_id, public_key, username, head_seq, head_hash):
    """"Signing out": the enrolment message's layout under its own tag."""
    return enrolment_message(challenge, device_id, public_key, username, head_seq, head_hash,
                             tag=b"heatcrew.sign-out.v1\n")


def sign_out_kept_message(challenge, device_id, head_seq, head_hash, proof):
    """"Signing out": what the office signs when it keeps a sign-out."""
    return b"heatcrew.sign-out-kept.v1\n" + challenge + device_id + u64(head_seq) + head_hash + proof


# ---------------------------------------------------------------- export files


class Report:
    def __init__(self):
        self.faults, self.unproven, self.codes, self.makers = [], [], set(), []
        self.sign_ins = self.sign_outs = 0  # the ones that hold ("What a verifier checks", 8, 9)

    def fault(self, where, msg, code="malformed"):
        """A fault with its code from docs/evidence.md ("Fault codes")."""
        self.faults.append(f"{code}: {where}: {msg}")
        self.codes.add(code)

    def unprove(self, where, msg):
        self.unproven.append(f"{where}: {msg}")


def read_export(path, report):
    """Parse one export file into its sections and loose lines ("Export files")."""
    name = os.path.basename(path)
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = {"name": name, "dir": os.path.dirname(os.path.abspath(path)), "office_key": None,
           "sections": [], "receipts": [], "tree_heads": [], "inclusion": [], "consistency": [],
           "files": [], "sign_ins": [], "sign_outs": [], "v2": False, "v3": False}
    section = None
    for no, text in enumerate(lines, 1):
        where = f"{name}:{no}"
        try:
            obj = parse_json(text)
            if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
                raise Malformed("a line that is not an object with a `type`")
            kind = obj["type"]
            if no == 1:
                if kind != "header":
                    raise Malformed("the first line is not the header")
                if obj.get("format") not in ("heatcrew.export.v1", "heatcrew.export.v2", "heatcrew.export.v3"):
                    raise Malformed(f"unknown export format {obj.get('format')!r}")
                out["format"] = obj["format"]
                out["v2"] = obj["format"] != "heatcrew.export.v1"  # format 2 or 3: sign-ins
                out["v3"] = obj["format"] == "heatcrew.export.v3"  # format 3: sign-outs
                out["source"] = obj.get("source")
                if obj.get("office_public_key") is not None:
                    out["office_key"] = hexbytes(obj["office_public_key"], 32, "office_public_key")
            elif kind == "header":
                raise Malformed("a second header")
            elif kind == "device":
                tip = obj.get("tip")
                if not isinstance(tip, dict):
                    raise Malformed("device line without a tip")
                section = {"where": where, "device_id": uuid_bytes(obj.get("device_id"), "device_id"),
                           "public_key": hexbytes(obj.get("public_key"), 32, "public_key"),
                           "tip_seq": integer(tip.get("seq"), "tip seq"),
                           "tip_hash": hexbytes(tip.get("hash"), 32, "tip hash"), "items": []}
                out["sections"].append(section)
            elif kind in ("event", "link"):
                if section is None:
                    raise Malformed(f"an {kind} line before any device line")
                section["items"].append((where, kind, obj))
            elif kind == "receipt":
                out["receipts"].append((where, obj.get("receipt")))
            elif kind == "tree_head":
                out["tree_heads"].append((where, obj.get("tree_head")))
            elif kind in ("inclusion", "consistency"):
                out[kind].append((where, obj.get("proof")))
            elif kind == "file":
                out["files"].append((where, obj))
            elif kind == "sign_in":
                if not out["v2"]:
                    report.fault(where, "a sign_in line in a heatcrew.export.v1 file", code="bad_header")
                    continue
                out["sign_ins"].append((where, read_sign_in(obj)))
            elif kind == "sign_out":
                if not out["v3"]:
                    report.fault(where, f"a sign_out line in a {out['format']} file (sign-outs need heatcrew.export.v3)", code="bad_header")
                    continue
                out["sign_outs"].append((where, read_sign_out(obj)))
            else:  # ASSUMPTION: an unknown line type is a fault, not something to skip
                raise Malformed(f"unknown line type {kind!r}")
        except Malformed as err:
            report.fault(where, str(err))
            if no == 1:
                return None
    if not lines:
        report.fault(name, "empty file (no header)")
        return None
    return out


def read_sign_in(obj, line="sign_in"):
    """A `sign_in` line (format 2): what the device signed when a user signed in ("Enrolment")."""
    head = obj.get("chain_head")
    if not isinstance(head, dict):
        raise Malformed(f"{line} line without a chain_head")
    if not isinstance(obj.get("username"), str):
        raise Malformed(f"{line} line without a username")
    return {"device_id": uuid_bytes(obj.get("device_id"), "device_id"), "username": obj["username"],
            "seq": integer(head.get("seq"), "chain head seq"),
            "hash": hexbytes(head.get("hash"), 32, "chain head hash"),
            "challenge": hexbytes(obj.get("challenge"), 32, "challenge"),
            "proof": hexbytes(obj.get("proof"), 64, "proof")}


def read_sign_out(obj):
    """A `sign_out` line (format 3): what the device signed when its user signed out, and the
    office's signature that it kept it, if any ("Signing out"). ASSUMPTION: `office_sig` absent
    and `office_sig: null` both mean "not acknowledged"."""
    s = read_sign_in(obj, "sign_out")
    sig = obj.get("office_sig")
    s["office_sig"] = None if sig is None else hexbytes(sig, 64, "office_sig")
    return s


def office_views(exports):
    """What each office export of format 2 or 3 shows of each device: where its chain shown
    ends, the sign-ins it carries (proofs, challenges) and the challenges of its sign-outs."""
    views = []
    for e in exports:
        if e.get("source") == "office" and e["v2"]:
            v = {"export": e, "ends": {}, "proofs": {}, "challenges": {}, "sign_outs": {}}
            for sec in e["sections"]:
                v["ends"][sec["device_id"]] = max(v["ends"].get(sec["device_id"], 0), sec.get("end", 0))
            for _, s in e["sign_ins"]:
                v["proofs"].setdefault(s["device_id"], set()).add(s["proof"])
                v["challenges"].setdefault(s["device_id"], set()).add(s["challenge"])
            for _, s in e["sign_outs"]:
                v["sign_outs"].setdefault(s["device_id"], set()).add(s["challenge"])
            views.append(v)
    return views


def check_sign_ins(exports, views, device_keys, chains, report):
    """Format 2's sign-in lines ("What a verifier checks", 8): each is the device key's signature
    over the enrolment message, and its chain head is the event the chains shown hold at that
    position. Returns the sign-ins that hold, per device, sorted by chain head (ASSUMPTION:
    sign-ins at the same head stay in the order the files give them, the later one taking the
    events after it)."""
    held = {}
    for e in exports:
        for where, s in e["sign_ins"]:
            dev, seq = s["device_id"], s["seq"]
            pk = device_keys.get(dev)
            if pk is None:
                report.unprove(where, "sign-in on a device whose key is not in these exports")
                continue
            message = enrolment_message(s["challenge"], dev, pk, s["username"], seq, s["hash"])
            if not ed25519_ok(pk, s["proof"], message):
                report.fault(where, f"sign-in of {s['username']!r}: not what the device signed", code="bad_sign_in")
                continue
            if seq == 0:
                contradicts = s["hash"] != ZERO32
            else:
                contradicts = any(shown.get(seq, s["hash"]) != s["hash"] for shown in chains.get(dev, []))
            if contradicts:
                report.fault(where, f"sign-in of {s['username']!r} names another event {seq} than the chain shown", code="chain_head")
                continue
            kept = held.setdefault(dev, [])
            if any(k["proof"] == s["proof"] for k in kept):
                continue
            # An office export (format 2 or 3) showing a device's chain past a sign-in's head must
            # carry that sign-in: the office holds it before the device records anything after it.
            for v in views:
                if (v["export"] is not e and v["ends"].get(dev, 0) > seq
                        and s["proof"] not in v["proofs"].get(dev, set())):
                    report.fault(where, f"sign-in of {s['username']!r}: {v['export']['name']} shows the chain past event {seq} without it", code="sign_in_withheld")
            report.sign_ins += 1
            kept.append(s)
    for kept in held.values():
        kept.sort(key=lambda k: k["seq"])  # stable
    return held


def check_sign_outs(exports, views, held, device_keys, office, chains, report):
    """Format 3's sign-out lines ("What a verifier checks", 9; "Signing out"). Returns where each
    sign-in ended whose sign-out counts: {(device_id, challenge, username): head seq}."""
    holding = {}  # (device_id, challenge, username) -> the first sign-out of that sign-in that holds
    for e in exports:
        for where, s in e["sign_outs"]:
            dev, seq = s["device_id"], s["seq"]
            who = f"sign-out of {s['username']!r} at event {seq}"
            pk = device_keys.get(dev)
            if pk is None:
                report.unprove(where, f"{who}: the device's key is not in these exports")
                continue
            message = sign_out_message(s["challenge"], dev, pk, s["username"], seq, s["hash"])
            if not ed25519_ok(pk, s["proof"], message):
                report.fault(where, f"{who}: not what the device signed", code="bad_sign_out")
                continue
            acknowledged = False
            if s["office_sig"] is not None:
                if office is None:
                    report.unprove(where, f"{who}: the office's acknowledgement cannot be checked without the office key")
                elif not ed25519_ok(office, s["office_sig"],
                                    sign_out_kept_message(s["challenge"], dev, seq, s["hash"], s["proof"])):
                    report.fault(where, f"{who}: the office's acknowledgement is not the office key's signature over it", code="bad_sign_out")
                    continue
                else:
                    acknowledged = True
            sign_ins = held.get(dev, [])
            i = next((i for i, k in enumerate(sign_ins)
                      if k["challenge"] == s["challenge"] and k["username"] == s["username"]), None)
            if i is None:
                report.unprove(where, f"{who}: the sign-in it ends is not in these exports (or does not hold)")
                continue
            start = sign_ins[i]
            if seq < start["seq"] or (seq == start["seq"] and s["hash"] != start["hash"]):
                report.fault(where, f"{who} stands before its own sign-in at event {start['seq']}", code="bad_sign_out")
                continue
            if seq > 0 and any(shown.get(seq, s["hash"]) != s["hash"] for shown in chains.get(dev, [])):
                report.fault(where, f"{who} names another event {seq} than the chain shown", code="chain_head")
                continue
            # Kept: the office signed that it kept it, or an office export carries it.
            kept = acknowledged or any(v["export"] is e for v in views)
            key = (dev, s["challenge"], s["username"])
            h = holding.get(key)
            if h is None:
                # The next sign-in: the sign-out disowns the events up to its head (none if that
                # stands before the sign-out).
                nxt = sign_ins[i + 1]["seq"] if i + 1 < len(sign_ins) else None
                holding[key] = {"where": where, "s": s, "next": nxt, "kept": kept}
            elif (h["s"]["seq"], h["s"]["hash"]) != (seq, s["hash"]):
                report.fault(where, f"{who}: the device also signed this sign-in's sign-out at event {h['s']['seq']} ({h['where']}): two different sign-outs", code="bad_sign_out")
            else:
                h["kept"] = h["kept"] or kept
    ends = {}
    for key in sorted(holding):
        h = holding[key]
        dev, s = key[0], h["s"]
        seq, who = s["seq"], f"sign-out of {s['username']!r} at event {seq}"
        # An office export that carries the sign-in and shows events the sign-out disowns,
        # without carrying the sign-out.
        leaves_out = next((v for v in views
                           if v["ends"].get(dev, 0) > seq and (h["next"] is None or h["next"] > seq)
                           and s["challenge"] in v["challenges"].get(dev, set())
                           and s["challenge"] not in v["sign_outs"].get(dev, set())), None)
        if leaves_out is not None and h["kept"]:
            report.fault(h["where"], f"{who}: the office kept it, but {leaves_out['export']['name']} shows the chain past it without it, crediting the events after it to {s['username']!r}", code="sign_out_withheld")
        elif leaves_out is not None:
            report.unprove(h["where"], f"{who}: the office never acknowledged it, and {leaves_out['export']['name']} holds events after it: they stay the records of {s['username']!r}")
            continue
        report.sign_outs += 1
        ends[key] = seq
    return ends


def makers_of(held, ends, chains):
    """Whose records the events shown are: [(device_id, username, first_seq, last_seq)], each
    sign-in's user for the events after its head, up to the next sign-in's head or its own
    counted sign-out's, whichever comes first."""
    makers = []
    for dev, kept in sorted(held.items()):
        end = max((max(shown, default=0) for shown in chains.get(dev, [])), default=0)
        for i, s in enumerate(kept):
            nxt = min(kept[i + 1]["seq"], end) if i + 1 < len(kept) else end
            out = ends.get((dev, s["challenge"], s["username"]))
            if out is not None:
                nxt = min(nxt, out)
            if s["seq"] < nxt:
                makers.append((dev, s["username"], s["seq"] + 1, nxt))
    return makers


def check_section(sec, report):
    """Chain rules ("Checking one device's chain") over events and links; returns the
    hashes shown, {device_seq: hash}."""
    shown, expected, prev, first_fault = {}, 1, ZERO32, None
    last_seq, last_hash = 0, ZERO32
    for where, kind, obj in sec["items"]:
        fault, seq, h = None, None, None
        try:
            if kind == "event":
                event = obj.get("event")
                if not isinstance(event, dict):
                    raise Malformed("event line without an event")
                seq = integer(event.get("device_seq"), "device_seq")
                h = hexbytes(event.get("hash"), 32, "hash")
                prev_hash = hexbytes(event.get("prev_hash"), 32, "prev_hash")
                if uuid_bytes(event.get("device_id"), "device_id") != sec["device_id"]:
                    fault = "wrong_device"
                elif seq != expected:
                    fault = "out_of_sequence"
                else:
                    fault = check_event(event, sec["public_key"])
            else:
                seq = integer(obj.get("device_seq"), "device_seq")
                h = hexbytes(obj.get("hash"), 32, "hash")
                prev_hash = hexbytes(obj.get("prev_hash"), 32, "prev_hash")
                sig = hexbytes(obj.get("sig"), 64, "sig")
                if seq != expected:
                    fault = "out_of_sequence"
                elif not ed25519_ok(sec["public_key"], sig, h):
                    fault = "bad_signature"
            if fault is None and prev_hash != prev:
                fault = "broken_chain"
        except Malformed as err:
            fault = f"malformed ({err})"
        if fault and first_fault is None:
            first_fault = fault
            report.fault(where, f"{kind} {seq if seq is not None else '?'}: {fault}", code="chain")
        if seq is None or h is None:
            break
        if seq not in shown:
            shown[seq] = h
        expected, prev, last_seq, last_hash = seq + 1, h, seq, h
    if first_fault is None:
        if last_seq < sec["tip_seq"]:
            report.fault(sec["where"], f"events are missing at the end (shown up to {last_seq}, tip {sec['tip_seq']})", code="tip_mismatch")
        elif last_seq > sec["tip_seq"] or last_hash != sec["tip_hash"]:
            report.fault(sec["where"], f"the chain does not end at its tip (seq {sec['tip_seq']})", code="tip_mismatch")
    return shown


def check_file_line(export, where, obj, report):
    """`file` lines. ASSUMPTION: the checks section does not mention them; here the file
    beside the export must have that SHA-256 and size (missing: unproven)."""
    try:
        digest = hexbytes(obj.get("sha256"), 32, "sha256")
        size = integer(obj.get("bytes"), "bytes")
        rel = obj.get("path")
        if not isinstance(rel, str) or os.path.isabs(rel) or ".." in rel.replace("\\", "/").split("/"):
            raise Malformed("file path is not a plain relative path")
    except Malformed as err:
        report.fault(where, str(err))
        return
    full = os.path.join(export["dir"], rel)
    if not os.path.isfile(full):
        report.unprove(where, f"file {rel} is not beside the export")
        return
    with open(full, "rb") as fh:
        data = fh.read()
    if len(data) != size or hashlib.sha256(data).digest() != digest:
        report.fault(where, f"file {rel} does not match its SHA-256 or size", code="file_mismatch")


def verify_exports(paths, office_key=None):
    """'What a verifier checks', steps 1-6, over all files together."""
    report = Report()
    exports = [e for e in (read_export(p, report) for p in paths) if e is not None]

    # 1. one office key across all headers (and the one given on the command line, if any)
    keys = {e["office_key"] for e in exports if e["office_key"] is not None}
    if office_key is not None:
        keys.add(office_key)
    if len(keys) > 1:
        report.fault("headers", "more than one office key", code="key_mismatch")
    office = office_key if office_key is not None else (keys.pop() if len(keys) == 1 else None)

    # 2. device sections; across files one key per device and one hash per (device, seq)
    device_keys, versions, chains = {}, {}, {}
    for e in exports:
        for sec in e["sections"]:
            dev = sec["device_id"]
            if device_keys.setdefault(dev, sec["public_key"]) != sec["public_key"]:
                report.fault(sec["where"], "another public key for this device than in another section", code="key_mismatch")
            shown = check_section(sec, report)
            sec["end"] = max(shown, default=0)
            chains.setdefault(dev, []).append(shown)
            for seq, h in shown.items():
                if versions.setdefault((dev, seq), h) != h:
                    report.fault(sec["where"], f"two different versions of event {seq}: one side rewrote it", code="two_versions")
        for where, obj in e["files"]:
            check_file_line(e, where, obj, report)

    # 2b. sign-ins (format 2) and sign-outs (format 3): whose records the events are
    views = office_views(exports)
    held = check_sign_ins(exports, views, device_keys, chains, report)
    ends = check_sign_outs(exports, views, held, device_keys, office, chains, report)
    report.makers = makers_of(held, ends, chains)

    # 3. receipts
    by_index, by_event, event_index, receipts = {}, {}, {}, []
    for e in exports:
        for where, r in e["receipts"]:
            try:
                f, message, sig = read_receipt(r)
            except Malformed as err:
                report.fault(where, str(err))
                continue
            if office is None:
                report.unprove(where, "receipt: no office key to check it with")
            elif not ed25519_ok(office, sig, message):
                report.fault(where, "receipt: bad office signature", code="bad_receipt")
                continue
            receipts.append((where, f))
            if by_index.setdefault(f["log_index"], f["leaf"]) != f["leaf"]:
                report.fault(where, f"two receipts for log index {f['log_index']} with different leaves: the office rewrote its log", code="log_rewritten")
            event_key = (f["device_id"], f["device_seq"])
            if by_event.setdefault(event_key, f["event_hash"]) != f["event_hash"]:
                report.fault(where, f"two receipts for event {f['device_seq']} with different hashes: the office rewrote its log", code="log_rewritten")
            # ASSUMPTION (not in the list of checks): the office appends each event once, so
            # one event at two log indices also shows a rewritten log.
            if event_index.setdefault(event_key, f["log_index"]) != f["log_index"]:
                report.fault(where, f"two receipts put event {f['device_seq']} at log indices "
                                    f"{event_index[event_key]} and {f['log_index']}: the office rewrote its log", code="log_rewritten")
            shown = chains.get(f["device_id"])
            if not shown:  # ASSUMPTION: nothing to compare with is "unproven"
                report.unprove(where, f"receipt for event {f['device_seq']} of a device whose chain is not shown")
            elif f["device_seq"] > max(max(s, default=0) for s in shown):
                report.fault(where, f"receipt for event {f['device_seq']}, beyond the end of every chain shown: events were removed", code="events_removed")
            elif any(s.get(f["device_seq"], f["event_hash"]) != f["event_hash"] for s in shown):
                report.fault(where, f"event {f['device_seq']} was rewritten after the receipt", code="receipt_mismatch")

    # 4. tree heads: signed, one root per size
    roots = {}
    for e in exports:
        for where, t in e["tree_heads"]:
            try:
                f, message, sig = read_tree_head(t)
            except Malformed as err:
                report.fault(where, str(err))
                continue
            if office is None:
                report.unprove(where, "tree head: no office key to check it with")
            elif not ed25519_ok(office, sig, message):
                report.fault(where, "tree head: bad office signature", code="bad_tree_head")
                continue
            if roots.setdefault(f["size"], f["root"]) != f["root"]:
                report.fault(where, f"two tree heads of size {f['size']} with different roots: the office rewrote its log", code="log_rewritten")

    # 5. inclusion proofs
    included = set()
    for e in exports:
        for where, p in e["inclusion"]:
            try:
                if not isinstance(p, dict) or not isinstance(p.get("path"), list):
                    raise Malformed("inclusion proof without a path")
                index, size = integer(p.get("index"), "index"), integer(p.get("size"), "size")
                path = [hexbytes(h, 32, "path") for h in p["path"]]
            except Malformed as err:
                report.fault(where, str(err))
                continue
            if index not in by_index:
                report.unprove(where, f"inclusion proof for log index {index}: no receipt for that index")
            elif size not in roots:
                report.unprove(where, f"inclusion proof for log index {index}: no tree head of size {size}")
            elif not verify_inclusion(index, size, leaf_hash(by_index[index]), path, roots[size]):
                report.fault(where, f"inclusion proof for log index {index} in tree head {size} fails", code="inclusion_failed")
            else:
                included.add(index)
    for where, f in receipts:
        if f["log_index"] not in included:
            report.unprove(where, f"receipt for event {f['device_seq']} (log index {f['log_index']}) has no inclusion proof")

    # 6. consistency proofs; then every two tree heads must be linked by proofs
    prefix, failed = set(), set()  # (a, b): tree head a is proven a prefix of tree head b
    for e in exports:
        for where, p in e["consistency"]:
            try:
                if not isinstance(p, dict) or not isinstance(p.get("path"), list):
                    raise Malformed("consistency proof without a path")
                first, second = integer(p.get("first"), "first"), integer(p.get("second"), "second")
                path = [hexbytes(h, 32, "path") for h in p["path"]]
            except Malformed as err:
                report.fault(where, str(err))
                continue
            if first not in roots or second not in roots:
                report.unprove(where, f"consistency proof {first} -> {second}: a tree head of that size is not in the evidence")
            elif not verify_consistency(first, second, roots[first], roots[second], path):
                report.fault(where, f"consistency proof {first} -> {second} fails: the office's log does not extend its earlier tree head", code="consistency_failed")
                failed.add((first, second))
            else:
                prefix.add((first, second))
    for a, b in proven_pairs_missing(sorted(roots), prefix):
        if (a, b) in failed:
            continue  # already a fault
        report.unprove("tree heads", f"no consistency proof between the tree heads of size {a} and {b}")
    return report


def proven_pairs_missing(sizes, prefix):
    """ASSUMPTION: consistency is transitive, and two trees that are both prefixes of a third
    are consistent with each other. Returns the pairs of sizes still unproven."""
    rel = set(prefix) | {(s, s) for s in sizes}
    changed = True
    while changed:
        changed = False
        for a, b in list(rel):
            for c, d in list(rel):
                derived = None
                if b == c:
                    derived = (a, d)
                elif b == d and a != c:
                    derived = (min(a, c), max(a, c))
                if derived and derived not in rel:
                    rel.add(derived)
                    changed = True
    return [(a, b) for i, a in enumerate(sizes) for b in sizes[i + 1:] if (a, b) not in rel]


# ---------------------------------------------------------------- test vectors


def check_vectors(directory):
    """Every vector in DIR/vectors.json and every case of DIR/exports/index.json."""
    failures, checked = [], 0

    def expect(cond, what):
        nonlocal checked
        checked += 1
        if not cond:
            failures.append(what)

    with open(os.path.join(directory, "vectors.json"), encoding="utf-8") as fh:
        v = parse_json(fh.read())

    # keys: "32 repeated bytes" as named in `about`
    device_key, stranger_key = public_key_of(bytes([1] * 32)), public_key_of(bytes([2] * 32))
    office_key, export_device_key = public_key_of(bytes([22] * 32)), public_key_of(bytes([11] * 32))

    for e in v["events"]:
        name, event = e["name"], e["event"]
        pk = hexbytes(e["public_key"], 32, "public_key")
        expect(pk == device_key, f"event {name}: public key is not that of secret [1;32]")
        try:
            mine = canonical_event(event, "A").hex()
        except Malformed as err:
            mine = f"<{err}>"
        expect(mine == e["canonical_hex"], f"event {name}: canonical bytes differ\n  mine {mine}\n  spec {e['canonical_hex']}")
        fault = check_event(event, pk)
        expect((fault is None) == e["valid"] and fault == e["fault"],
               f"event {name}: verifier says {fault or 'valid'}, vectors say {e['fault'] or 'valid'}")
        if e["fault"] == "bad_signature":  # the "another key" is the stranger [2;32]
            expect(ed25519_ok(stranger_key, bytes.fromhex(event["sig"]), bytes.fromhex(event["hash"])),
                   f"event {name}: not signed by the stranger key [2;32]")

    for n in v["numbers"]:
        num = parse_json(n["json"])
        got = {"format_1_plain": number_format_1(num, "A"), "format_1_signed": number_format_1(num, "B"),
               "format_2": number_format_2(num.as_double())}
        for k, mine in got.items():
            expect(mine == n[k], f"number {n['json']}: {k} is {mine}, vectors say {n[k]}")

    m = v["merkle"]
    leaves = [leaf_hash(bytes.fromhex(x)) for x in m["leaves_hex"]]
    roots = {}
    for r in m["roots"]:
        size = to_plain(r["size"])
        roots[size] = bytes.fromhex(r["root"])
        expect(mth(leaves[:size]) == roots[size], f"merkle root of size {size}")
    expect(sorted(roots) == list(range(len(leaves) + 1)), "merkle: a root of every size 0..n")
    for p in m["inclusion"]:
        index, size, path = to_plain(p["index"]), to_plain(p["size"]), [bytes.fromhex(h) for h in p["path"]]
        expect(inclusion_path(index, leaves[:size]) == path, f"inclusion path {index} in {size}")
        expect(verify_inclusion(index, size, leaves[index], path, roots[size]), f"inclusion {index} in {size} verifies")
        expect(not verify_inclusion(index, size, leaf_hash(b"other"), path, roots[size]),
               f"inclusion {index} in {size} refuses another leaf")
    expect(len(m["inclusion"]) == sum(range(1, len(leaves) + 1)), "merkle: every inclusion proof is listed")
    for p in m["consistency"]:
        first, second, path = to_plain(p["first"]), to_plain(p["second"]), [bytes.fromhex(h) for h in p["path"]]
        expect(consistency_proof(first, leaves[:second]) == path, f"consistency proof {first} -> {second}")
        expect(verify_consistency(first, second, roots[first], roots[second], path), f"consistency {first} -> {second} verifies")
        if first < second:
            expect(not verify_consistency(first, second, leaf_hash(b"other"), roots[second], path),
                   f"consistency {first} -> {second} refuses another first root")
    expect(len(m["consistency"]) == sum(range(1, len(leaves) + 1)), "merkle: every consistency proof is listed")

    s = v["signed_messages"]
    expect(hexbytes(s["office_public_key"], 32, "office key") == office_key, "office key is that of secret [22;32]")
    leaf = s["leaf"]["leaf"]
    lb = leaf_bytes(uuid_bytes(leaf["device_id"], "device_id"), to_plain(leaf["device_seq"]),
                    bytes.fromhex(leaf["event_hash"]), leaf["accepted"])
    expect(lb.hex() == s["leaf"]["bytes_hex"], "leaf bytes")
    expect(leaf_hash(lb).hex() == s["leaf"]["leaf_hash"], "leaf hash")
    f, message, sig = read_receipt(s["receipt"]["receipt"])
    expect(message.hex() == s["receipt"]["message_hex"], "receipt message")
    expect(ed25519_ok(office_key, sig, message), "receipt signature")
    expect(f["leaf"] == lb, "the receipt's leaf is the leaf vector")
    f, message, sig = read_tree_head(s["tree_head"]["tree_head"])
    expect(message.hex() == s["tree_head"]["message_hex"], "tree head message")
    expect(ed25519_ok(office_key, sig, message), "tree head signature")
    en = s["enrolment"]
    device_pk = hexbytes(en["device_public_key"], 32, "device key")
    expect(device_pk == export_device_key, "enrolment device key is that of secret [11;32]")
    message = enrolment_message(hexbytes(en["challenge"], 32, "challenge"), uuid_bytes(en["device_id"], "device_id"),
                                device_pk, en["username"], integer(en["chain_head"]["seq"], "chain head seq"),
                                hexbytes(en["chain_head"]["hash"], 32, "chain head hash"))
    expect(message.hex() == en["message_hex"], "enrolment message")
    expect(ed25519_ok(device_pk, hexbytes(en["proof"], 64, "proof"), message), "enrolment signature")
    so = s["sign_out"]
    device_pk = hexbytes(so["device_public_key"], 32, "device key")
    expect(device_pk == export_device_key, "sign-out device key is that of secret [11;32]")
    challenge, device_id = hexbytes(so["challenge"], 32, "challenge"), uuid_bytes(so["device_id"], "device_id")
    head_seq, head_hash = integer(so["chain_head"]["seq"], "chain head seq"), hexbytes(so["chain_head"]["hash"], 32, "chain head hash")
    proof = hexbytes(so["proof"], 64, "proof")
    message = sign_out_message(challenge, device_id, device_pk, so["username"], head_seq, head_hash)
    expect(message.hex() == so["message_hex"], "sign-out message")
    expect(ed25519_ok(device_pk, proof, message), "sign-out signature")
    expect(not ed25519_ok(device_pk, proof, enrolment_message(challenge, device_id, device_pk, so["username"], head_seq, head_hash)),
           "a sign-out's proof is no enrolment proof")
    kept = s["sign_out_kept"]
    expect((hexbytes(kept["challenge"], 32, "challenge"), uuid_bytes(kept["device_id"], "device_id"),
            integer(kept["chain_head"]["seq"], "chain head seq"), hexbytes(kept["chain_head"]["hash"], 32, "chain head hash"),
            hexbytes(kept["proof"], 64, "proof")) == (challenge, device_id, head_seq, head_hash, proof),
           "the kept sign-out is the sign-out vector")
    message = sign_out_kept_message(challenge, device_id, head_seq, head_hash, proof)
    expect(message.hex() == kept["message_hex"], "sign-out-kept message")
    expect(ed25519_ok(office_key, hexbytes(kept["office_sig"], 64, "office_sig"), message), "sign-out-kept signature")

    exports = os.path.join(directory, "exports")
    with open(os.path.join(exports, "index.json"), encoding="utf-8") as fh:
        cases = json.load(fh)
    for case in cases:
        report = verify_exports([os.path.join(exports, f) for f in case["files"]])
        ok = not report.faults and not report.unproven
        detail = "".join(f"\n  fault: {x}" for x in report.faults) + "".join(f"\n  unproven: {x}" for x in report.unproven)
        # ok=false must come from a fault, unless the index expects unproven items
        expect(ok == case["ok"] and (case["ok"] or report.faults or case.get("unproven")),
               f"export {' + '.join(case['files'])}: ok={ok}, index says {case['ok']}{detail}")
        if not case.get("faults"):
            expect(not report.faults, f"export {' + '.join(case['files'])}: no fault expected{detail}")
        if "unproven" in case:
            expect(len(report.unproven) == case["unproven"],
                   f"export {' + '.join(case['files'])}: {len(report.unproven)} unproven, index says {case['unproven']}{detail}")
        if "sign_outs" in case:
            expect(report.sign_outs == case["sign_outs"],
                   f"export {' + '.join(case['files'])}: {report.sign_outs} sign-outs count, index says {case['sign_outs']}")
        if "makers" in case:
            found = [[str(uuid.UUID(bytes=d)), u, a, b] for d, u, a, b in report.makers]
            expect(found == case["makers"], f"export {' + '.join(case['files'])}: makers {found}, index says {case['makers']}")
        for code in case.get("faults", []):
            expect(code in report.codes, f"export {' + '.join(case['files'])}: expected a {code} fault{detail}")
        print(f"export {' + '.join(case['files'])}: ok={ok} ({len(report.faults)} faults, "
              f"{len(report.unproven)} unproven) as expected={ok == case['ok']}")
        if not case["ok"] and report.faults:
            print("  first fault:", report.faults[0])
    return checked, failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    vec = sub.add_parser("vectors", help="check the test vectors in DIR")
    vec.add_argument("dir")
    exp = sub.add_parser("export", help="verify export files together")
    exp.add_argument("files", nargs="+")
    exp.add_argument("--strict", action="store_true", help="treat anything unproven as a fault")
    exp.add_argument("--office-key", help="the office public key (hex) you trust, instead of the headers'")
    args = parser.parse_args(argv)

    if args.command == "vectors":
        checked, failures = check_vectors(args.dir)
        for f in failures:
            print("MISMATCH:", f)
        print(f"{checked - len(failures)} of {checked} checks match")
        return 1 if failures else 0

    key = hexbytes(args.office_key, 32, "--office-key") if args.office_key else None
    report = verify_exports(args.files, key)
    for dev, username, first, last in report.makers:
        print(f"MAKER: device {uuid.UUID(bytes=dev)} events {first}..{last}: {username} (signed in on the device)")
    if report.sign_ins or report.sign_outs:
        print(f"SIGNED: {report.sign_ins} sign-in(s) and {report.sign_outs} sign-out(s) hold and count")
    for f in report.faults:
        print("FAULT:", f)
    for u in report.unproven:
        print("UNPROVEN:", u)
    if report.faults:
        print(f"the evidence does not hold: {len(report.faults)} fault(s)")
        return 1
    if report.unproven:
        print(f"no faults; {len(report.unproven)} item(s) unproven")
        return 1 if args.strict else 0
    print("the evidence holds: no faults, nothing unproven")
    return 0


if __name__ == "__main__":
    sys.exit(main())
