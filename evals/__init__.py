"""The eval suite: gold questions, metrics, report and the CI gate."""
