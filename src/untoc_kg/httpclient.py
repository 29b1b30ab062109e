"""HTTP for the remote features: one request, credentials, and every failure as one line.

Only the standard library (``urllib.request``) is used, so the remote features add no dependency.
Every failure (refused connection, timeout, TLS, HTTP error) is a ``RemoteError`` with a one-line
message; an HTTP 400 is a ``RemoteQueryError`` (the question, not the network, is wrong).
"""

from __future__ import annotations

import base64
import http.client
import re
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from .errors import RemoteError, RemoteQueryError

__all__ = ["Auth", "HttpClient", "check_url", "display_url", "one_line"]

_USER_AGENT = "untoc-kg (+https://w3id.org/untoc/)"


@dataclass(frozen=True)
class Auth:
    """Credentials: user and password (HTTP Basic or Digest, as the server asks) or a bearer token."""

    user: str | None = None
    password: str | None = None
    token: str | None = None


def display_url(url: str) -> str:
    """The URL without any user:password part, for messages."""
    parts = urllib.parse.urlsplit(url)
    if "@" in parts.netloc:
        parts = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1])
    return urllib.parse.urlunsplit(parts)


def check_url(url: str, what: str) -> str:
    """``url`` if it is an http(s) URL with a host and a valid port; ``what`` names it in the error."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteError(f"{what} must be an http:// or https:// URL, not {url!r}")
    try:
        parts.port
    except ValueError:
        raise RemoteError(f"{what} has an invalid port: {url!r}") from None
    return url


def one_line(text: str, limit: int = 200) -> str:
    """``text`` on one line, cut to ``limit`` characters: a server's answer quoted in a message."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class HttpClient:
    """Requests to one server with the same credentials and timeout (challenges cached per path)."""

    def __init__(self, auth: Auth | None, timeout: float):
        self.auth = auth or Auth()
        self.timeout = timeout
        # User and password answer the server's challenge, Basic or Digest (Virtuoso's authenticated
        # endpoints want Digest and refuse a Basic header sent up front).
        self.manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        handlers = []
        self.digest = urllib.request.HTTPDigestAuthHandler(self.manager)
        if self.auth.user is not None:
            handlers = [self.digest, urllib.request.HTTPBasicAuthHandler(self.manager)]
        self.opener = urllib.request.build_opener(*handlers)
        self.challenges: dict[tuple[str, str, str], list[str]] = {}

    def _challenge(self, url: str) -> list[str]:
        """The WWW-Authenticate challenges a HEAD of ``url`` gets (once per path), [] if none."""
        parts = urllib.parse.urlsplit(url)
        key = (parts.scheme, parts.netloc, parts.path)
        if key not in self.challenges:
            found: list[str] = []
            probe = urllib.request.Request(url, method="HEAD", headers={"User-Agent": _USER_AGENT})
            try:
                urllib.request.build_opener().open(probe, timeout=self.timeout).close()
            except urllib.error.HTTPError as exc:
                if exc.code == 401 and exc.headers:
                    found = exc.headers.get_all("WWW-Authenticate") or []
            except (OSError, http.client.HTTPException, ValueError):
                pass  # the request itself will say what is wrong
            self.challenges[key] = found
        return self.challenges[key]

    def _authorize(self, req: urllib.request.Request) -> bool:
        """Answer the server's challenge before sending a body, not after.

        A server that demands credentials may answer 401 and close the connection before reading
        a large body (Virtuoso does, for a graph of a megabyte); the client then fails with a broken
        pipe and never sees the challenge. So the challenge is fetched with a HEAD first. Returns
        whether credentials now go with the request.
        """
        for challenge in self._challenge(req.full_url):
            scheme, _, rest = challenge.partition(" ")
            if scheme.lower() == "digest":
                chal = urllib.request.parse_keqv_list(filter(None, urllib.request.parse_http_list(rest)))
                header = self.digest.get_authorization(req, chal)
                if header:
                    req.add_unredirected_header("Authorization", "Digest " + header)
                    return True
            elif scheme.lower() == "basic":
                raw = f"{self.auth.user}:{self.auth.password or ''}".encode("utf-8")
                req.add_unredirected_header("Authorization", "Basic " + base64.b64encode(raw).decode("ascii"))
                return True
        return False

    def request(self, method: str, url: str, *, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[str, bytes]:
        """(content type, body) of a 2xx answer; RemoteError for anything else."""
        shown = display_url(url)
        if self.auth.user is not None:
            self.manager.add_password(None, url, self.auth.user, self.auth.password or "")
        req = urllib.request.Request(url, data=body, method=method)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        req.add_header("User-Agent", _USER_AGENT)
        if self.auth.token is not None:
            req.add_unredirected_header("Authorization", f"Bearer {self.auth.token}")
        challenged = False
        try:
            if self.auth.user is not None and body:
                challenged = self._authorize(req)
            with self.opener.open(req, timeout=self.timeout) as resp:
                return resp.headers.get("Content-Type", ""), resp.read()
        except urllib.error.HTTPError as exc:
            try:
                detail = exc.read().decode("utf-8", "replace")
            except Exception:  # noqa: BLE001 - the status line is enough
                detail = ""
            ctype = (exc.headers.get("Content-Type", "") if exc.headers else "").lower()
            if "html" in ctype:
                detail = re.sub(r"<[^>]*>", " ", detail)
            message = f"{shown} answered HTTP {exc.code} {exc.reason}"
            if detail.strip():
                message += ": " + one_line(detail)
            if exc.code in (401, 403):
                message += " (check --user/--password or --token)"
            raise (RemoteQueryError if exc.code == 400 else RemoteError)(message) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if challenged and isinstance(reason, (BrokenPipeError, ConnectionResetError)):
                # what Virtuoso does with wrong credentials and a large body: 401, then hang up
                raise RemoteError(f"{shown} closed the connection while the request was sent; it does "
                                  "that when it refuses the credentials (check --user/--password)") from None
            if isinstance(reason, ConnectionRefusedError):
                raise RemoteError(f"cannot connect to {shown}: connection refused") from None
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise RemoteError(f"no answer from {shown} within {self.timeout:g} s") from None
            if isinstance(reason, socket.gaierror):
                raise RemoteError(f"cannot connect to {shown}: unknown host") from None
            if isinstance(reason, ssl.SSLError):
                raise RemoteError(f"TLS error with {shown}: {one_line(str(reason))}") from None
            text = getattr(reason, "strerror", None) or str(reason)
            raise RemoteError(f"cannot connect to {shown}: {one_line(text)}") from None
        except (socket.timeout, TimeoutError):
            raise RemoteError(f"no answer from {shown} within {self.timeout:g} s") from None
        except ConnectionRefusedError:
            raise RemoteError(f"cannot connect to {shown}: connection refused") from None
        except (http.client.HTTPException, OSError) as exc:
            text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise RemoteError(f"connection to {shown} failed: {one_line(text)}") from None
        except ValueError as exc:
            raise RemoteError(f"request to {shown} failed: {one_line(str(exc))}") from None
