"""CA Marketplace: the example service releasegate deploys (see examples/camarketplace/README.md)."""
