"""The mock LLM provider: an OpenAI-compatible server with seeded latency, queueing, prices and faults.

`gameday mock --profile mocks/NAME.yaml --seed N` runs it (`gameday.mocks.serve:main`). The pure
models (latency, output length, token counting, text, capacity, rate limits, the bill) are small
modules of their own; `app` and `admin` are the HTTP handlers over them.
"""

__all__: list[str] = []
