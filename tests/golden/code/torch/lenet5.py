"""lenet5 as a PyTorch model, written by nbunify: (N, 1, 28, 28) -> (N, 10)."""

import torch
import torch.nn.functional as F
from torch import nn


class Lenet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv2d_1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.maxpool2d_1 = nn.MaxPool2d(2)
        self.conv2d_2 = nn.Conv2d(6, 16, kernel_size=5)
        self.maxpool2d_2 = nn.MaxPool2d(2)
        self.dense_1 = nn.Linear(400, 120)
        self.dense_2 = nn.Linear(120, 84)
        self.dense_3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.relu(self.conv2d_1(x))  # (N, 6, 28, 28)
        x = self.maxpool2d_1(x)  # (N, 6, 14, 14)
        x = F.relu(self.conv2d_2(x))  # (N, 16, 10, 10)
        x = self.maxpool2d_2(x)  # (N, 16, 5, 5)
        x = torch.flatten(x, 1)  # (N, 400)
        x = F.relu(self.dense_1(x))  # (N, 120)
        x = F.relu(self.dense_2(x))  # (N, 84)
        return self.dense_3(x)  # (N, 10)


if __name__ == "__main__":
    model = Lenet5().eval()
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        print(model(x).shape)  # torch.Size([2, 10])
