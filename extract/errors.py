"""Errors that name what went wrong where: provider, asset and field, with secrets removed."""

from __future__ import annotations


class ProviderError(Exception):
    """A request or payload problem for one asset of one provider; other assets go on."""

    def __init__(self, provider: str, asset: str | None, reason: str, field: str | None = None) -> None:
        self.provider, self.asset, self.reason, self.field = provider, asset, reason, field
        where = f"{provider} asset {asset!r}" if asset else provider
        super().__init__(f"{where}: {reason}" + (f" (field {field!r})" if field else ""))

    def __reduce__(self):
        # Pickled by its fields (task runners carry errors between processes):
        # the default would call __init__ with the message alone.
        return type(self), (self.provider, self.asset, self.reason, self.field)


class PayloadError(ProviderError):
    """The provider answered, but not with the shape the raw schema accepts."""


class PlanError(ProviderError):
    """The provider refuses this call on the user's plan: retrying cannot help. `kind` says
    what was refused (e.g. an endpoint or a parameter value), for the source to fall back."""

    def __init__(self, provider: str, asset: str | None, reason: str, field: str | None = None, kind: str = "") -> None:
        super().__init__(provider, asset, reason, field)
        self.kind = kind

    def __reduce__(self):
        return type(self), (self.provider, self.asset, self.reason, self.field, self.kind)


class ConfigurationError(ProviderError):
    """The provider refuses every call as configured (no key, a demo key, a key of another
    plan): one error for the provider, naming the setting to change, instead of one per asset."""


def redact(text: str, secrets: list[str | None]) -> str:
    """Replace every secret in `text`: Alpha Vantage puts the key in the query string, so it
    shows up in request URLs inside library exceptions."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
