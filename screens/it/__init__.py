"""The IT staff area: one screen per task the article sends to "your IT administrator"."""
