"""Counting the commands a piece of work sends to the database (a PyMongo listener)."""

from pymongo import monitoring

# A new pooled connection signs in first (the embedded server runs with --auth): that is
# the connection's set-up, not the work being counted.
SIGN_IN = frozenset({"saslStart", "saslContinue", "authenticate"})


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.names: list[str] = []
        self.targets: list[str] = []  # "<command> <collection>", for finding out what read

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in SIGN_IN:
            return
        self.names.append(event.command_name)
        target = event.command.get(event.command_name)
        self.targets.append(f"{event.command_name} {target}")

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass
