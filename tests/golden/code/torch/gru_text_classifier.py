"""gru_text_classifier as a PyTorch model, written by nbunify: (N, 12) token ids -> (N, 4)."""

import torch
import torch.nn.functional as F
from torch import nn


class GruTextClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding_1 = nn.Embedding(40, 16)
        self.gru_1 = nn.GRU(16, 20, batch_first=True)
        self.gru_2 = nn.GRU(20, 12, batch_first=True, bidirectional=True)
        self.dense_1 = nn.Linear(24, 4)

    def forward(self, x):
        x = self.embedding_1(x)  # (N, 12, 16)
        x, _ = self.gru_1(x)  # (N, 12, 20)
        _, h = self.gru_2(x)  # h: (2, N, 12)
        x = torch.cat([h[-2], h[-1]], dim=1)  # (N, 24)
        return F.softmax(self.dense_1(x), dim=1)  # (N, 4)


if __name__ == "__main__":
    model = GruTextClassifier().eval()
    x = torch.randint(0, 40, (2, 12))
    with torch.no_grad():
        print(model(x).shape)  # torch.Size([2, 4])
