"""View helpers shared by the JSON API (`app.web.api`) and the HTML pages (`app.web.pages`).

One module per view family: `common` (parameters, the cached board and response), `leaderboard`
(overview and track boards), `models` (a model's page), `analysis` (domain gap, consistency).
Routes live in `app.web.api` and `app.web.pages`; neither imports the other, both import these.
"""
