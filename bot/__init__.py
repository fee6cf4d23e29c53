"""The core of planbot: a question about the Aomori City plan goes in, a cited answer comes out.

Nothing in this package knows about LINE, Slack or HTTP.
"""
