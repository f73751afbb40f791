"""Channel plugins: a Messenger per channel from settings or from installed entry points."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Final

from clarion.core.clock import Clock
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.delivery.messenger import Messenger
from clarion.delivery.webhook_messenger import WebhookMessenger
from clarion.settings import Settings

# A package adds a channel by declaring, in its own pyproject.toml:
#   [project.entry-points."clarion.messengers"]
#   whatsapp = "clarion_whatsapp:make_messenger"   # (settings, clock) -> Messenger
ENTRY_POINT_GROUP: Final = "clarion.messengers"

MessengerFactory = Callable[[Settings, Clock], Messenger]


def installed_factories() -> dict[str, MessengerFactory]:
    """The channels installed packages add, by name."""
    return {ep.name: ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)}


def channel_names(settings: Settings) -> list[str]:
    """Every channel a messenger can be built for: configured webhooks and installed plugins."""
    names = set(settings.webhook_channels) | {
        ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)
    }
    return sorted(names)


def messenger_for(channel: str, settings: Settings, *, clock: Clock) -> Messenger:
    """The messenger of ``channel``: a configured webhook first, else an installed plugin."""
    configured = settings.webhook_channels.get(channel)
    if configured is not None:
        return WebhookMessenger(
            channel,
            configured.url,
            configured.secret.get_secret_value().encode(),
            max_attempts=configured.max_attempts,
            timeout=configured.timeout_seconds,
            clock=clock,
        )
    factory = installed_factories().get(channel)
    if factory is None:
        known = ", ".join(channel_names(settings)) or "none configured"
        problem = f"no messenger for channel {channel[:40]!r} (known: {known})"
        raise InvalidInput(problem, [FieldProblem("channel", problem)])
    return factory(settings, clock)
