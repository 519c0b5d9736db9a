"""Generated data: the bundled sample business, and random organisations with planted truth on
which the analyses' error rates are measured."""
