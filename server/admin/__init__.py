"""The admin pages and the admin JSON API, under ``/admin`` (docs/running-an-event.md)."""
