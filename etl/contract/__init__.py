"""The contract: the input sources and their rules, the metrics, the pages, and mapping profiles
that turn a foreign export into a contract source."""
