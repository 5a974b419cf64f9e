"""The critical user flows: login, service requests, payments, files, email."""
