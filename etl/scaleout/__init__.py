"""Scale-out: the Parquet lake, and the load and the models on Apache Spark."""
