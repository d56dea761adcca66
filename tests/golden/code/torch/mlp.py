"""mlp as a PyTorch model, written by nbunify: (N, 8) -> (N, 3)."""

import torch
import torch.nn.functional as F
from torch import nn


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense_1 = nn.Linear(8, 32)
        self.dropout_1 = nn.Dropout(p=0.2)
        self.dense_2 = nn.Linear(32, 16)
        self.dense_3 = nn.Linear(16, 3)

    def forward(self, x):
        x = F.relu(self.dense_1(x))  # (N, 32)
        x = self.dropout_1(x)  # (N, 32)
        x = torch.tanh(self.dense_2(x))  # (N, 16)
        return F.softmax(self.dense_3(x), dim=1)  # (N, 3)


if __name__ == "__main__":
    model = Mlp().eval()
    x = torch.randn(2, 8)
    with torch.no_grad():
        print(model(x).shape)  # torch.Size([2, 3])
