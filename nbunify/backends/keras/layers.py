"""Keras layers nbunify needs beyond keras.layers: a Transformer encoder block (its source is also pasted into generated code)."""

from __future__ import annotations

from nbunify.frameworks import load

keras = load("keras")
layers = keras.layers

# codegen.py copies the class below, decorator included, into generated code: keep it self-contained
# (only `keras` and `layers` names), formatted within 100 columns.


@keras.saving.register_keras_serializable(package="nbunify")
class TransformerEncoder(layers.Layer):
    """One Transformer encoder block, as torch's nn.TransformerEncoderLayer computes it.

    Self-attention and a two-layer feed-forward network, each added back to its input and
    layer-normalized: after the addition (post-norm, the default) or before the sub-block
    (``norm_first=True``). Dropout after attention, inside and after the feed-forward network.
    """

    def __init__(
        self, embed_dim, num_heads, ff_dim, dropout=0.1, activation="relu", norm_first=False,
        epsilon=1e-5, **kwargs
    ):
        super().__init__(**kwargs)
        self.embed_dim, self.num_heads, self.ff_dim = embed_dim, num_heads, ff_dim
        self.rate, self.activation = dropout, activation
        self.norm_first, self.epsilon = norm_first, epsilon
        self.attention = layers.MultiHeadAttention(
            num_heads, key_dim=embed_dim // num_heads, dropout=dropout, name="attention")
        self.dense1 = layers.Dense(ff_dim, activation=activation, name="dense1")
        self.dense2 = layers.Dense(embed_dim, name="dense2")
        self.norm1 = layers.LayerNormalization(epsilon=epsilon, name="norm1")
        self.norm2 = layers.LayerNormalization(epsilon=epsilon, name="norm2")
        self.dropout = layers.Dropout(dropout)
        self.dropout1 = layers.Dropout(dropout)
        self.dropout2 = layers.Dropout(dropout)

    def build(self, input_shape):
        self.attention.build(input_shape, input_shape)
        self.dense1.build(input_shape)
        self.dense2.build((*input_shape[:-1], self.ff_dim))
        self.norm1.build(input_shape)
        self.norm2.build(input_shape)

    def call(self, x, training=False):
        if self.norm_first:
            x = x + self._attend(self.norm1(x), training)
            return x + self._feed_forward(self.norm2(x), training)
        x = self.norm1(x + self._attend(x, training))
        return self.norm2(x + self._feed_forward(x, training))

    def _attend(self, x, training):
        return self.dropout1(self.attention(x, x, training=training), training=training)

    def _feed_forward(self, x, training):
        hidden = self.dropout(self.dense1(x), training=training)
        return self.dropout2(self.dense2(hidden), training=training)

    def get_config(self):
        return {**super().get_config(), "embed_dim": self.embed_dim, "num_heads": self.num_heads,
                "ff_dim": self.ff_dim, "dropout": self.rate, "activation": self.activation,
                "norm_first": self.norm_first, "epsilon": self.epsilon}
