"""Alternative.me Fear & Greed endpoint and budget (https://alternative.me/crypto/fear-and-greed-index/)."""

BASE_URL = "https://api.alternative.me"
# "60 requests per minute over a 10 minute window" (docs/provider-answers.md: not an official page).
PER_MINUTE = 60


def plan_limits(_plan: str | None = None) -> dict[str, int | None]:
    return {"per_minute": PER_MINUTE}
