"""What the flows run on: dbt in-process, warehouse queries and its lock, the run log and the
run summary, the offline emulator wiring."""
