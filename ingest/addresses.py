"""Which addresses the fetcher may reach: the public internet, and private hosts only by name.

Feeds are written by third parties, so a link (or a redirect) to ``169.254.169.254``,
``10.0.0.5``, ``[fd00::1]`` or ``http://2130706433/`` must never be fetched: that would put an
internal service's answer into the corpus for any user to read. The checks are ssrfguard's
(:class:`ssrfguard.Policy`): loopback, private, link-local, shared (100.64/10), multicast,
reserved and unspecified addresses are refused, in IPv4, IPv6, IPv4-mapped or translated IPv6,
and in the decimal, octal and hex spellings of IPv4.

:class:`PrivateAllowList` is ``FETCH_ALLOW_PRIVATE``: host names, IP addresses and CIDR blocks
that are meant to be private (an intranet feed; the local servers of the tests). A listed
address or block may be reached whatever name leads to it; a listed name may resolve to any
address. Empty by default.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from ssrfguard import BlockedAddressError, BlockedURLError, Policy, SSRFGuardError

__all__ = ["PrivateAllowList", "refusal"]

ALL_PORTS = frozenset(range(1, 65536))  # a news site may serve on any port
EVERYWHERE = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))
_LABEL = r"(?!-)[a-z0-9_-]{1,63}(?<!-)"
_HOST_NAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(entry: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(entry.removeprefix("[").removesuffix("]"), strict=False)
    except ValueError:
        return None


def _host_name(entry: str) -> str:
    """``entry`` as httpx writes a host (lower case, A-labels), or ValueError."""
    try:
        name = entry.rstrip(".").lower().encode("idna").decode("ascii")
    except UnicodeError:
        name = ""
    if not _HOST_NAME.match(name) or name.replace(".", "").isdigit():
        raise ValueError(f"not a host name, IP address or CIDR block: {entry[:60]!r}")
    return name


@dataclass(frozen=True)
class PrivateAllowList:
    """Host names and networks that may be private (``FETCH_ALLOW_PRIVATE``)."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def parse(cls, entries: str | tuple[str, ...] | list[str]) -> PrivateAllowList:
        """From ``"intranet.example, 127.0.0.1, 10.1.0.0/16"`` or a sequence of entries.

        Raises:
            ValueError: an entry is neither a host name, nor an IP address, nor a CIDR block.
        """
        if isinstance(entries, str):
            entries = entries.split(",")
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            network = _network(entry)
            if network is not None:
                networks.append(network)
            else:
                names.add(_host_name(entry))
        return cls(frozenset(names), tuple(networks))

    def entries(self) -> tuple[str, ...]:
        """The entries, as ``FETCH_ALLOW_PRIVATE`` would list them."""
        return (*sorted(self.names), *(str(n) for n in self.networks))

    @cached_property
    def _strict(self) -> Policy:
        return Policy(allowed_ports=ALL_PORTS, allowed_networks=self.networks)

    @cached_property
    def _named(self) -> Policy:
        return Policy(allowed_ports=ALL_PORTS, allowed_networks=EVERYWHERE)

    def policy_for(self, host: str) -> Policy:
        """The ssrfguard policy for a request to ``host`` (as httpx writes it)."""
        return self._named if host.rstrip(".").lower() in self.names else self._strict


def _literal_address(url: str) -> str | None:
    """The IP address a URL names literally (``http://10.0.0.5/``), else None."""
    try:
        host = urlsplit(url).hostname or ""
        ipaddress.ip_address(host)
    except ValueError:
        return None
    return host


def refusal(exc: SSRFGuardError) -> str:
    """The one-line reason a URL was refused (``refused: 10.0.0.5: 10.0.0.0/8 is Private-Use
    (RFC1918) (not in FETCH_ALLOW_PRIVATE)``)."""
    if isinstance(exc, BlockedAddressError):
        what = f"{exc.address}: {exc.reason} (not in FETCH_ALLOW_PRIVATE)"
    elif isinstance(exc, BlockedURLError):
        literal = _literal_address(exc.url)
        what = f"{literal}: {exc.reason} (not in FETCH_ALLOW_PRIVATE)" if literal else exc.reason
    else:
        what = str(exc)
    return "refused: " + " ".join(what.split())[:300]
