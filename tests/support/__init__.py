"""Test support shared by the e2e and reliability suites.

- ``twilio_standin``: a local HTTP server speaking Twilio's Messages API (and signing callbacks).
- ``live_server``: the ASGI server and the Celery worker as real subprocesses.
- ``fixtures``: pytest fixtures over both (import them into a suite's ``conftest.py``).
- ``browser``: headless Debian Chromium through Playwright's sync API.
"""
