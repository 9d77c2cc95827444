"""The site stage: turn validated snippets and their results into page Markdown."""
