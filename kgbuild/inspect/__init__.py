"""Looking at a store: summary, neighbourhoods, plots and SPARQL queries over its RDF face."""
