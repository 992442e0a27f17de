"""Security test flows: generate them from an OpenAPI or WSDL contract,
preview their raw requests before deployment, run them after (each step a
finding), export them to Postman.  See docs/flows.md.

Modules, one job each: :mod:`.model` (the flow file and its schema),
:mod:`.ids` (check ids), :mod:`.generate_openapi`, :mod:`.examples`,
:mod:`.rest_steps` (build and judge a REST step), :mod:`.preview`,
:mod:`.run`, :mod:`.postman`.
"""
