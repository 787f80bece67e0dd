"""The kiosk's domain: NPI verification, OTP, token inventory, enrollment rules, audit.

Nothing in here imports textual, cv2, kiosk or screens (enforced by tests/unit/test_layers.py
and the import-linter contracts in pyproject.toml), so the whole flow runs without a terminal.
"""
