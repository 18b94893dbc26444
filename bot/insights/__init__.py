"""What the assistant does for the pipeline: the figures of `/admin/insights`.

- `model`, `figures`, `fallbacks`, `period`, `feedback`: pure (dataclasses in and out);
- `queries`: the adapter that reads Rasa's `events` table and the leads database;
- `service`: one report (read, group, compute); `render`: the HTML page and its SVG charts;
- `cli`: `python -m bot insights`; `feedback_nlg`: the thumbs on retrieval answers.
The HTTP endpoint is `bot/channels/insights.py`.
"""
