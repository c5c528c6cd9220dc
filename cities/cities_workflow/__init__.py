"""The cities MLflow Project: a travel-city recommender over the Worldwide Travel Cities
table, with a PCA of the city features and hard budget and region constraints."""
