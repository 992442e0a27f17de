"""compare: the findings model, the assessment engine, the side-by-side
matrix, the reporters and the top-level ``apisec`` command."""
