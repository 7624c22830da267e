"""Run in a separate process by test_routing_concurrency: deliver inbound chats at a set time.

Usage: python -m tests.conversations.concurrent_inbound SERVICE_ID FIRST COUNT START_AT
"""

import sys
import time

import django


def main() -> None:
    django.setup()
    from contacts.models import Identity
    from conversations.models import Service
    from conversations.services import InboundRecord, inbound_receive

    service_id, first, count, start_at = (
        int(sys.argv[1]),
        int(sys.argv[2]),
        int(sys.argv[3]),
        float(sys.argv[4]),
    )
    service = Service.objects.get(pk=service_id)
    time.sleep(max(0.0, start_at - time.time()))
    for n in range(first, first + count):
        inbound_receive(
            record=InboundRecord(
                channel="chat",
                service=service,
                identities=[(Identity.Kind.WEBCHAT, f"visitor-{n}")],
                provider_id=f"chat-{n}",
                body=f"hello {n}",
                customer_address=f"visitor-{n}",
            )
        )
    print("done", count)


if __name__ == "__main__":
    main()
