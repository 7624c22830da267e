from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"

    def ready(self) -> None:
        # Implement the ports the contacts app defines (contacts never imports conversations).
        from . import activities, contact_merge

        activities.register()
        contact_merge.register()
