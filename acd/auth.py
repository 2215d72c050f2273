"""Passwords and bearer tokens.

Passwords are stored as scrypt hashes (``scrypt$n$r$p$salt$hash``, hex). Tokens are
HS256 JWTs carrying the user's tenant, role and agent id; the signing secret comes from
the config or is generated once and kept in the data directory, so tokens survive a
restart.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import jwt

ROLES = ("admin", "supervisor", "agent")
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                             p=int(p), dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


@dataclass(frozen=True)
class Principal:
    """Who is calling the API."""

    username: str
    tenant: str
    role: str
    agent_id: str | None = None
    operator: bool = False  # member of a tenant that administers other tenants

    def can_act_for_agent(self, agent_id: str) -> bool:
        return self.role in ("admin", "supervisor") or self.agent_id == agent_id


class TokenError(Exception):
    pass


class Tokens:
    def __init__(self, secret: str, ttl_s: int) -> None:
        self._secret = secret
        self.ttl_s = ttl_s

    @classmethod
    def for_data_dir(cls, data_dir: Path, secret: str | None, ttl_s: int) -> "Tokens":
        if secret is None:
            path = data_dir / "auth.secret"
            if path.exists():
                secret = path.read_text().strip()
            else:
                secret = secrets.token_hex(32)
                path.write_text(secret)
                path.chmod(0o600)
        return cls(secret, ttl_s)

    def issue(self, p: Principal, now: float | None = None) -> str:
        now = time.time() if now is None else now
        claims = {"sub": p.username, "tenant": p.tenant, "role": p.role, "agent": p.agent_id,
                  "op": p.operator, "iat": int(now), "exp": int(now + self.ttl_s)}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        try:
            c = jwt.decode(token, self._secret, algorithms=["HS256"],
                           options={"require": ["exp", "sub", "tenant", "role"]})
        except jwt.ExpiredSignatureError:
            raise TokenError("token expired") from None
        except jwt.PyJWTError as exc:
            raise TokenError(f"invalid token: {exc}") from None
        if c["role"] not in ROLES:
            raise TokenError("invalid token: unknown role")
        return Principal(c["sub"], c["tenant"], c["role"], c.get("agent"), bool(c.get("op")))
