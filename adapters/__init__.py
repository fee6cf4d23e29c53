"""Channels: the CLI, LINE, Slack and the review web page. Each turns a platform event into a `Question`
and renders an `Answer`; none of the core knows they exist."""
