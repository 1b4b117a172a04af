"""What the tests and the benchmark share: an HTTP client for the API, a fake OpenAI server,
DynamoDB call counting and the route-calls scenario."""
