"""Reading the corpus: articles from files, their paragraphs and sentences with exact offsets,
and the words and language (spaCy) of a text. Imports nothing from the other rooms."""
