"""Request and response models of the JSON API, one module per API family: `submissions`, `views`
(leaderboards and analyses) and `models`. They expose aggregates only: never gold or per-item data.
"""
