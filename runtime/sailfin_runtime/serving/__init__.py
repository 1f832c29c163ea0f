"""The ``serve`` recipe's engine: detokenizer, stop strings, continuous-batching scheduler, HTTP API."""
