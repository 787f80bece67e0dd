"""The provider's setup, one screen per step of the article (core.enrollment.Step)."""
