"""filter: datatrove quality steps, language-aware."""
