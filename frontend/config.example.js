// Copy to config.js (git-ignored) and set the API's address, to serve frontend/ by hand.
// `make run` answers config.js for its own API without this file; a deploy writes the
// production one next to the pages on S3.
// A classic script, loaded before the page modules: keep it one plain assignment.
window.STOVE_CONFIG = {
  apiBaseUrl: 'http://localhost:8000', // no trailing slash needed; include the stage path if any
};
