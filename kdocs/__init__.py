"""kdocs: Kubernetes guides whose every snippet is validated and tested."""
