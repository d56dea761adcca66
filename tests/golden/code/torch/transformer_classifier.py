"""transformer_classifier as a PyTorch model, written by nbunify: (N, 10) token ids -> (N, 3)."""

import torch
import torch.nn.functional as F
from torch import nn


class TransformerClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding_1 = nn.Embedding(30, 16)
        self.transformer_encoder_1 = nn.TransformerEncoderLayer(
            16, 4, dim_feedforward=32, batch_first=True
        )
        self.transformer_encoder_2 = nn.TransformerEncoderLayer(
            16, 2, dim_feedforward=24, activation="gelu", batch_first=True, norm_first=True
        )
        self.dense_1 = nn.Linear(16, 3)

    def forward(self, x):
        x = self.embedding_1(x)  # (N, 10, 16)
        x = self.transformer_encoder_1(x)  # (N, 10, 16)
        x = self.transformer_encoder_2(x)  # (N, 10, 16)
        x = x.mean(dim=1)  # (N, 16)
        return F.softmax(self.dense_1(x), dim=1)  # (N, 3)


if __name__ == "__main__":
    model = TransformerClassifier().eval()
    x = torch.randint(0, 30, (2, 10))
    with torch.no_grad():
        print(model(x).shape)  # torch.Size([2, 3])
